"""Opaque keyset cursors: lists page by id, newest first, with `limit` and `cursor` → `next_cursor`."""

from __future__ import annotations

import base64
import binascii

from billy.core.errors import ValidationFailed

MAX_LIMIT = 500


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        last_id = int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as e:
        raise ValidationFailed({"cursor": ["Not a cursor this list handed out."]}) from e
    if kind != "id" or last_id < 0:
        raise ValidationFailed({"cursor": ["Not a cursor this list handed out."]})
    return last_id


def check_limit(limit: int, maximum: int = MAX_LIMIT) -> int:
    if not 1 <= limit <= maximum:
        raise ValidationFailed({"limit": [f"Between 1 and {maximum}."]})
    return limit
