"""The one way billy writes a point in time for others to read: RFC 3339 in UTC, with exactly six
fractional digits (microseconds, what PostgreSQL keeps) and `Z`: `2026-11-23T12:00:00.000000Z`.

Every HTTP answer and every event payload renders its timestamps here, so they sort as text, compare
equal when the instants are equal, and lose nothing a later filter or comparison would need.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$"
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)


def format_timestamp(value: dt.datetime) -> str:
    """`value` as RFC 3339 UTC with microseconds and `Z`. A naive datetime is taken as UTC."""
    utc = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    # isoformat, not strftime: strftime writes the year 1 as "1", not "0001".
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def is_timestamp(text: str) -> bool:
    """Whether `text` is written the way `format_timestamp` writes."""
    return _TIMESTAMP.fullmatch(text) is not None


class TimestampJSONEncoder(DjangoJSONEncoder):
    """Django's JSON encoder, with timestamps written by `format_timestamp` (for JSON billy sends
    outside an HTTP answer, such as a webhook's body)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime):
            return format_timestamp(o)
        return super().default(o)
