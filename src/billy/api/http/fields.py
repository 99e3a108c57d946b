"""The shapes fields share across the HTTP API's schemas, each declared once with its pattern, so
the OpenAPI document tells a generated client exactly what billy takes and writes.

Money is a decimal string: taken with at most two decimals (`"1234.5"` is 1,234.50), always written
with exactly two (`"1234.50"`, signed where it can be negative). Timestamps are written by
`billy.core.timestamps` (RFC 3339, UTC, six fractional digits, `Z`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field
from pydantic import WithJsonSchema

from billy.core.money import (
    CURRENCY_PATTERN,
    POSITIVE_AMOUNT_PATTERN,
    SIGNED_AMOUNT_PATTERN,
    WRITTEN_AMOUNT_PATTERN,
)
from billy.core.timestamps import TIMESTAMP_PATTERN
from billy.core.validation import (
    ID_PATTERN,
    MAX_ID_LENGTH,
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
)

# -- in ----------------------------------------------------------------------------------------
MONEY_IN = {"pattern": POSITIVE_AMOUNT_PATTERN, "examples": ["1234.50"]}
SIGNED_MONEY_IN = {"pattern": SIGNED_AMOUNT_PATTERN, "examples": ["-100.00"]}
ID = {"minLength": 1, "maxLength": MAX_ID_LENGTH, "pattern": ID_PATTERN, "examples": ["ch-2026-000123"]}
NAME = {"minLength": 1, "maxLength": 128}
CURRENCY = {"pattern": CURRENCY_PATTERN, "examples": ["RUB"]}
METADATA = {
    "maxProperties": MAX_METADATA_KEYS,
    "propertyNames": {"minLength": 1, "maxLength": MAX_METADATA_KEY_LENGTH},
    "additionalProperties": {"type": "string", "maxLength": MAX_METADATA_VALUE_LENGTH},
    "examples": [{"order_id": "42"}],
}


# -- out ---------------------------------------------------------------------------------------
def money(description: str | None = None) -> Any:
    """An amount billy writes."""
    return Field(
        description=description, json_schema_extra={"pattern": WRITTEN_AMOUNT_PATTERN, "examples": ["1234.50"]}
    )


def currency(description: str | None = "ISO 4217 code.") -> Any:
    return Field(description=description, json_schema_extra={"pattern": CURRENCY_PATTERN, "examples": ["RUB"]})


_TIMESTAMP_SCHEMA = {
    "type": "string",
    "format": "date-time",
    "pattern": TIMESTAMP_PATTERN,
    "examples": ["2026-11-23T12:00:00.000000Z"],
}
Timestamp = Annotated[dt.datetime, WithJsonSchema(_TIMESTAMP_SCHEMA)]
