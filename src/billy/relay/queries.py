"""How far behind the feed the relay is, per stream and workspace."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from billy.events.queries import visible

# The events of the cursor row's workspace that the relay has not published yet (alias `v`), for
# SQL in which `relay_cursor` is the cursor row.
UNPUBLISHED = f"""
    FROM event v
   WHERE v.workspace_id = relay_cursor.workspace_id AND {visible("v")}
     AND (v.xid, v.id) > (relay_cursor.after_xid::text::xid8, relay_cursor.after_event_id)
"""
BEHIND_SQL = f"SELECT count(*) {UNPUBLISHED}"
OLDEST_SQL = f"SELECT min(v.created_at) {UNPUBLISHED}"


@dataclass(frozen=True)
class RelayLag:
    workspace: str
    behind: int
    oldest_unpublished_at: dt.datetime | None
    published_count: int
    updated_at: dt.datetime | None


def relay_lag(*, stream: str) -> list[RelayLag]:
    """Per workspace: how many events of the feed the relay has not yet published to `stream`, and
    when the oldest of them was written (none: it is up to date). A workspace the relay has not
    reached yet counts from the feed's start."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT relay_cursor.name, ({BEHIND_SQL}), ({OLDEST_SQL}), relay_cursor.published_count,
                   relay_cursor.updated_at
              FROM (SELECT w.id AS workspace_id, w.name, coalesce(c.after_xid, 0) AS after_xid,
                           coalesce(c.after_event_id, 0) AS after_event_id,
                           coalesce(c.published_count, 0) AS published_count, c.updated_at
                      FROM workspace w
                      LEFT JOIN relay_cursor c ON c.workspace_id = w.id AND c.stream = %s) relay_cursor
             ORDER BY relay_cursor.name
            """,  # noqa: S608 (fixed fragments, no input)
            [stream],
        )
        return [RelayLag(*row) for row in cursor.fetchall()]
