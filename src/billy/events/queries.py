"""Reading the feed by cursor."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection

from billy.core.errors import ValidationFailed
from billy.core.pagination import decode_cursor, encode_cursor

MAX_LIMIT = 1000


@dataclass(frozen=True)
class FeedEvent:
    id: int
    type: str
    version: int
    created_at: dt.datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class FeedPage:
    events: list[FeedEvent]
    next_cursor: str


def read_feed(*, workspace_id: int, after: str | None, limit: int) -> FeedPage:
    """Events after the cursor, oldest first; `next_cursor` resumes after the last one returned."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed({"limit": [f"Between 1 and {MAX_LIMIT}."]})
    xid, event_id = decode_cursor(after, int, int, field="after", what="feed") or (0, 0)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id, type, version, created_at, data, xid::text AS cursor_xid
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
        FeedEvent(
            id=r[0], type=r[1], version=r[2], created_at=r[3], data=json.loads(r[4]) if isinstance(r[4], str) else r[4]
        )
        for r in rows
    ]
    next_cursor = encode_cursor(int(rows[-1][5]), rows[-1][0]) if rows else (after or encode_cursor(0, 0))
    return FeedPage(events=events, next_cursor=next_cursor)
