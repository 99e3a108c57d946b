"""Reading the feed by cursor."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection

from billy.core.errors import ValidationFailed

MAX_LIMIT = 1000


@dataclass(frozen=True)
class FeedEvent:
    id: int
    type: str
    created_at: dt.datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class FeedPage:
    events: list[FeedEvent]
    next_cursor: str


def _encode(xid: int, event_id: int) -> str:
    return base64.urlsafe_b64encode(f"{xid}:{event_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        xid, event_id = (int(part) for part in raw.split(":"))
    except (ValueError, binascii.Error, UnicodeDecodeError) as e:
        raise ValidationFailed({"after": ["Not a cursor this feed handed out."]}) from e
    if xid < 0 or event_id < 0:
        raise ValidationFailed({"after": ["Not a cursor this feed handed out."]})
    return xid, event_id


def read_feed(*, workspace_id: int, after: str | None, limit: int) -> FeedPage:
    """Events after the cursor, oldest first; `next_cursor` resumes after the last one returned."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed({"limit": [f"Between 1 and {MAX_LIMIT}."]})
    xid, event_id = _decode(after) if after else (0, 0)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id, type, created_at, data, xid::text AS cursor_xid
              FROM event
             WHERE workspace_id = %s
               AND xid < pg_snapshot_xmin(pg_current_snapshot())
               AND (xid, id) > (%s::text::xid8, %s)
             ORDER BY event.xid, event.id  -- the column, as xid8: never the text above
             LIMIT %s
            """,
            [workspace_id, str(xid), event_id, limit],
        )
        rows = cursor.fetchall()
    # Django leaves jsonb undecoded on its connections.
    events = [
        FeedEvent(id=r[0], type=r[1], created_at=r[2], data=json.loads(r[3]) if isinstance(r[3], str) else r[3])
        for r in rows
    ]
    next_cursor = _encode(int(rows[-1][4]), rows[-1][0]) if rows else (after or _encode(0, 0))
    return FeedPage(events=events, next_cursor=next_cursor)
