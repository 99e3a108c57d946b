"""Money: integer minor units (kopecks) with an ISO currency; decimal strings at the edges.

The API takes and shows amounts as decimal strings with at most two decimals (`"1234.50"`);
JSON numbers are refused because parsers round them silently. Rounding happens once, with a
named mode, where a rule divides money (e.g. a prorated refund).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

MINOR_UNITS = 2  # every currency billy holds today (RUB, USD, EUR) has two decimals
# At most 999,999,999,999.99: sums of many such amounts stay far inside PostgreSQL's bigint.
# Matched with fullmatch: `$` alone would let a trailing newline through.
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$")
AMOUNT_PATTERN = _AMOUNT.pattern
# The same, greater than zero: what the OpenAPI document declares for an amount that must move money.
POSITIVE_AMOUNT_PATTERN = r"^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,11}(\.[0-9]{1,2})?)$"
# The same, signed: an amount that may take money away (an adjustment).
SIGNED_AMOUNT_PATTERN = r"^-?(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"
# What `format_amount` writes: exactly two decimals, a sign when negative, no upper bound (a total).
WRITTEN_AMOUNT_PATTERN = r"^-?(0|[1-9][0-9]*)\.[0-9]{2}$"
_CURRENCY = re.compile(r"^[A-Z]{3}$")
CURRENCY_PATTERN = _CURRENCY.pattern
# Banker's rounding, the one mode billy uses when a rule divides money.
ROUNDING = ROUND_HALF_EVEN


def parse_amount(text: str) -> int:
    """Minor units of a non-negative decimal string; ValueError for anything else."""
    if not isinstance(text, str) or not _AMOUNT.fullmatch(text):
        raise ValueError('an amount is a decimal string with at most 2 decimals, e.g. "1234.50"')
    units, _, fraction = text.partition(".")
    return int(units) * 100 + int((fraction + "00")[:2])


def format_amount(minor: int) -> str:
    """`"1234.50"` for 123450; negative amounts keep their sign."""
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 100)
    return f"{sign}{units}.{cents:02d}"


def is_currency(code: str) -> bool:
    return isinstance(code, str) and bool(_CURRENCY.fullmatch(code))


def prorate(minor: int, numerator: int, denominator: int) -> int:
    """`minor * numerator / denominator`, rounded once with ROUNDING."""
    return int((Decimal(minor) * numerator / denominator).quantize(Decimal(1), rounding=ROUNDING))


def parse_amount_field(field: str, text: str | None, *, signed: bool = False) -> int | None:
    """Minor units of an API field (None stays None); ValidationFailed naming the field otherwise."""
    from billy.core.errors import ValidationFailed

    if text is None:
        return None
    negative = signed and isinstance(text, str) and text.startswith("-")
    try:
        minor = parse_amount(text[1:] if negative else text)
    except ValueError as e:
        raise ValidationFailed({field: [str(e)]}) from e
    return -minor if negative else minor
