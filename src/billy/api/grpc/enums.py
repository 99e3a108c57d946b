"""billy's UPPER_SNAKE choice values as proto enums, and back: one rule for every enum.

A proto enum's values are named `<ENUM NAME IN UPPER_SNAKE>_<billy's value>` (ChargeStatus's
`CHARGE_STATUS_HELD` is a charge's `HELD`), with an `..._UNSPECIFIED` zero value that billy never
sends and reads as "none given". So a value added to a model and to its enum maps with no table to
keep in step, and a value missing from the enum fails loudly, not as a silent zero.
"""

from __future__ import annotations

import re

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from billy.core.errors import ValidationFailed


def _prefix(enum: EnumTypeWrapper) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum.DESCRIPTOR.name).upper() + "_"


def enum_number(enum: EnumTypeWrapper, value: str) -> int:
    """The enum's number for billy's `value`; "" (none) is the zero value. A value the enum lacks
    raises ValueError: a model grew a choice that the proto did not."""
    return enum.Value(_prefix(enum) + value) if value else 0


def enum_value(enum: EnumTypeWrapper, number: int, *, field: str) -> str | None:
    """billy's value for the enum's `number`; None for the zero value (UNSPECIFIED).

    Raises ValidationFailed on `field` for a number the enum does not define (proto3 lets a
    client send any)."""
    if number == 0:
        return None
    try:
        name = enum.Name(number)
    except ValueError:
        names = [n for n in enum.keys() if enum.Value(n) != 0]
        raise ValidationFailed({field: [f"One of {', '.join(names)}."]}) from None
    return name.removeprefix(_prefix(enum))
