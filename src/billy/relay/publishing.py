"""One step of the relay: each workspace with events past its cursor publishes its next page.

The page is read outside any transaction (a transaction held open during a publish would hold back
the feed's horizon for every reader), published as one batch, and the cursor moved past it once the
broker has acknowledged the whole batch. The cursor only ever moves forward.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from billy.core.pagination import decode_cursor, encode_cursor
from billy.events.queries import FeedEvent, read_feed, visible
from billy.integrations.broker import Broker, BrokerMessage, StreamSpec


@dataclass(frozen=True)
class RelayTarget:
    """Where the relay publishes: the stream, the subjects' first token, and how long the stream
    remembers a message id."""

    stream: str
    subject_prefix: str
    duplicate_window_seconds: float

    @property
    def spec(self) -> StreamSpec:
        return StreamSpec(
            name=self.stream,
            subjects=(f"{self.subject_prefix}.>",),
            duplicate_window_seconds=self.duplicate_window_seconds,
        )

    def subject(self, *, workspace: str, event_type: str) -> str:
        """`<prefix>.<workspace>.<event type>`, e.g. `billy.c2b.charge.completed`."""
        return f"{self.subject_prefix}.{workspace}.{event_type}"


@dataclass(frozen=True)
class Position:
    workspace_id: int
    workspace: str
    cursor: str


def message(target: RelayTarget, *, workspace: str, event: FeedEvent) -> BrokerMessage:
    """The event as published: the feed's JSON as the body, the event id as the message id."""
    return BrokerMessage(
        subject=target.subject(workspace=workspace, event_type=event.type),
        body=event.as_json(),
        message_id=str(event.id),
        headers={
            "Billy-Workspace": workspace,
            "Billy-Event-Type": event.type,
            "Billy-Event-Version": str(event.version),
            # The feed's position just after this event: GET .../events?after= resumes from it.
            "Billy-Cursor": event.cursor,
        },
    )


def positions_with_work(*, stream: str) -> list[Position]:
    """Workspaces with events in the feed past their cursor for `stream` (from the start when the
    relay has none yet), with that cursor."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT w.id, w.name, coalesce(c.after_xid, 0), coalesce(c.after_event_id, 0)
              FROM workspace w
              LEFT JOIN relay_cursor c ON c.workspace_id = w.id AND c.stream = %s
             WHERE EXISTS (SELECT 1 FROM event v
                            WHERE v.workspace_id = w.id AND {visible("v")}
                              AND (v.xid, v.id) > (coalesce(c.after_xid, 0)::text::xid8, coalesce(c.after_event_id, 0)))
             ORDER BY w.id
            """,  # noqa: S608 (a fixed fragment, no input)
            [stream],
        )
        return [Position(r[0], r[1], encode_cursor(r[2], r[3])) for r in cursor.fetchall()]


def publish_page(*, broker: Broker, target: RelayTarget, position: Position, limit: int, now: dt.datetime) -> int:
    """Publish the workspace's next page after its cursor and move the cursor past it; how many
    events were published. Raises what Broker.publish raises (the cursor stays where it was)."""
    page = read_feed(workspace_id=position.workspace_id, after=position.cursor, limit=limit)
    if not page.events:
        return 0
    broker.publish([message(target, workspace=position.workspace, event=e) for e in page.events])
    advance_cursor(
        stream=target.stream,
        workspace_id=position.workspace_id,
        cursor=page.next_cursor,
        published=len(page.events),
        now=now,
    )
    return len(page.events)


def advance_cursor(*, stream: str, workspace_id: int, cursor: str, published: int, now: dt.datetime) -> None:
    """Move the cursor forward to `cursor` (never back: a second relay on the same stream that is
    behind changes nothing)."""
    xid, event_id = decode_cursor(cursor, int, int)
    with connection.cursor() as c:
        c.execute(
            """
            INSERT INTO relay_cursor AS r (stream, workspace_id, after_xid, after_event_id, published_count, updated_at)
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (stream, workspace_id) DO UPDATE
               SET after_xid = EXCLUDED.after_xid,
                   after_event_id = EXCLUDED.after_event_id,
                   published_count = r.published_count + EXCLUDED.published_count,
                   updated_at = EXCLUDED.updated_at
             WHERE (r.after_xid, r.after_event_id) < (EXCLUDED.after_xid, EXCLUDED.after_event_id)
            """,
            [stream, workspace_id, xid, event_id, published, now],
        )


def relay_step(*, broker: Broker, target: RelayTarget, limit: int, now: dt.datetime) -> int:
    """One page for each workspace with work (so one busy workspace does not keep the others
    waiting); how many events were published."""
    return sum(
        publish_page(broker=broker, target=target, position=position, limit=limit, now=now)
        for position in positions_with_work(stream=target.stream)
    )
