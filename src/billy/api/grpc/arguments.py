"""Reading request fields that protobuf itself does not check."""

from __future__ import annotations

import datetime as dt

from billy.core.errors import ValidationFailed

# A Timestamp's valid range (google/protobuf/timestamp.proto): 0001-01-01T00:00:00Z to
# 9999-12-31T23:59:59.999999999Z, nanos in [0, 999999999]. Outside it the message is invalid.
MIN_SECONDS = -62_135_596_800
MAX_SECONDS = 253_402_300_799


def datetime_argument(message, field: str) -> dt.datetime | None:
    """The UTC datetime of a Timestamp field, None when unset. Raises ValidationFailed when out of range."""
    if not message.HasField(field):
        return None
    value = getattr(message, field)
    if not (MIN_SECONDS <= value.seconds <= MAX_SECONDS and 0 <= value.nanos <= 999_999_999):
        raise ValidationFailed(
            {field: ["A Timestamp from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, with nanos in [0, 999999999]."]}
        )
    return value.ToDatetime(tzinfo=dt.UTC)
