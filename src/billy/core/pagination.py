"""Opaque keyset cursors, one codec for every list: `limit` and `cursor` → `next_cursor`.

A cursor is the base64 (URL-safe, unpadded) of its parts joined by ":": a fixed tag naming the
list's kind and the key of the last row handed out (`id:42`, `subscription:<uuid>`, or for lists
newest first by creation time `charge:<created_at in µs since the epoch>:<id>`), or a position
(the feed's `<xid>:<event id>`). Each list decodes with the shape it encodes, so a cursor of one list
is refused by another, and a malformed one is a 422 on the list's field, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import Q

from billy.core.errors import ValidationFailed

MAX_LIMIT = 500


def encode_cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(":".join(str(p) for p in parts).encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str | None, *shape: str | Callable[[str], Any], field: str = "cursor", what: str = "list"
) -> tuple | None:
    """The cursor's values by `shape` (a str: that exact tag; a callable: a value it parses, a
    negative number refused), or None for no cursor. Raises ValidationFailed on `field`."""
    if not cursor:
        return None
    try:
        pieces = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(":")
        if len(pieces) != len(shape):
            raise ValueError(cursor)
        values = []
        for piece, part in zip(pieces, shape, strict=True):
            if isinstance(part, str):
                if piece != part:
                    raise ValueError(piece)
                continue
            value = part(piece)
            if isinstance(value, int) and value < 0:
                raise ValueError(piece)
            values.append(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as e:
        raise ValidationFailed({field: [f"Not a cursor this {what} handed out."]}) from e
    return tuple(values)


def encode_id_cursor(last_id: int) -> str:
    """The cursor after a row of a list paged by id."""
    return encode_cursor("id", last_id)


def decode_id_cursor(cursor: str | None) -> int | None:
    values = decode_cursor(cursor, "id", int)
    return None if values is None else values[0]


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def encode_created_cursor(tag: str, created_at: dt.datetime, row_id: int) -> str:
    """The cursor after a row of a list ordered newest first by (created_at, id)."""
    return encode_cursor(tag, (created_at - _EPOCH) // dt.timedelta(microseconds=1), row_id)


def decode_created_cursor(cursor: str | None, tag: str) -> tuple[dt.datetime, int] | None:
    values = decode_cursor(cursor, tag, int, int)
    if values is None:
        return None
    try:
        return _EPOCH + dt.timedelta(microseconds=values[0]), values[1]
    except OverflowError as e:
        raise ValidationFailed({"cursor": ["Not a cursor this list handed out."]}) from e


def before_created(position: tuple[dt.datetime, int]) -> Q:
    """Rows after `position` in a list ordered by (created_at, id) descending. Written so that an
    index on (..., created_at DESC, id DESC) bounds the scan (`created_at <=`), not only filters it."""
    created_at, row_id = position
    return Q(created_at__lte=created_at) & (Q(created_at__lt=created_at) | Q(id__lt=row_id))


def check_limit(limit: int, maximum: int = MAX_LIMIT) -> int:
    if not 1 <= limit <= maximum:
        raise ValidationFailed({"limit": [f"Between 1 and {maximum}."]})
    return limit
