"""Reading the feed by cursor."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection

from billy.core.errors import ValidationFailed
from billy.core.pagination import decode_cursor, encode_cursor
from billy.core.timestamps import TimestampJSONEncoder

from .models import Event

MAX_LIMIT = 1000


def visible(alias: str = "event") -> str:
    """The SQL condition under which an event (row `alias`) is in the feed: every transaction older
    than its own has ended, so no event can ever appear before it later."""
    return f"{alias}.xid < pg_snapshot_xmin(pg_current_snapshot())"


@dataclass(frozen=True)
class FeedEvent:
    id: int
    type: str
    version: int
    created_at: dt.datetime
    data: dict[str, Any]
    # The feed's position just after this event: reading after it resumes with the next one.
    cursor: str

    def as_item(self) -> dict[str, Any]:
        """The event as the feed hands it out (and webhooks post it): its facts beside id, type,
        version and created_at."""
        return {"id": self.id, "type": self.type, "version": self.version, "created_at": self.created_at, **self.data}

    def as_json(self) -> bytes:
        """`as_item` as compact UTF-8 JSON: the body webhooks post and the relay publishes."""
        return json.dumps(self.as_item(), cls=TimestampJSONEncoder, separators=(",", ":"), ensure_ascii=False).encode()


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
            f"""
            SELECT id, type, version, created_at, data, xid::text AS cursor_xid
              FROM event
             WHERE workspace_id = %s
               AND {visible()}
               AND (xid, id) > (%s::text::xid8, %s)
             ORDER BY event.xid, event.id  -- the column, as xid8: never the text above
             LIMIT %s
            """,  # noqa: S608 (a fixed fragment, no input)
            [workspace_id, str(xid), event_id, limit],
        )
        rows = cursor.fetchall()
    # Django leaves jsonb undecoded on its connections.
    events = [
        FeedEvent(
            id=r[0],
            type=r[1],
            version=r[2],
            created_at=r[3],
            data=json.loads(r[4]) if isinstance(r[4], str) else r[4],
            cursor=encode_cursor(int(r[5]), r[0]),
        )
        for r in rows
    ]
    next_cursor = events[-1].cursor if events else (after or encode_cursor(0, 0))
    return FeedPage(events=events, next_cursor=next_cursor)


def feed_event(event: Event) -> FeedEvent:
    """One event as the feed shows it."""
    return FeedEvent(
        id=event.pk,
        type=event.type,
        version=event.version,
        created_at=event.created_at,
        data=event.data,
        cursor=encode_cursor(event.xid, event.pk),
    )


def head_cursor() -> str:
    """A cursor past every event of the transactions that have ended: reading after it yields only
    events written from now on (and by transactions running now), never one written before."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
        xmin = int(cursor.fetchone()[0])
    # Positions compare as (xid, event id); every event of a transaction older than xmin is below
    # (xmin, 0), every event of xmin's or a later transaction above it.
    return encode_cursor(xmin, 0)
