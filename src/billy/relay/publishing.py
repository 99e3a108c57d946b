"""One step of the relay: each workspace with events past its cursor publishes its next pages.

Pages are read outside any transaction (a transaction held open during a publish would hold back
the feed's horizon for every reader), published as one batch, and the cursor moved past it once the
broker has acknowledged the whole batch. The cursor only ever moves forward.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from django.db import connection, transaction

from billy.core.pagination import decode_cursor, encode_cursor
from billy.events.queries import FeedEvent, read_feed, visible
from billy.integrations.broker import Broker, BrokerMessage, StreamSpec

from .models import RelayCursor, RelayStream

# Pages one step publishes of a workspace at most, before the next workspace has its turn.
PAGES_PER_TURN = 10


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


@dataclass(frozen=True)
class Batch:
    """One page of a workspace's feed, as messages, and the cursor just after it."""

    position: Position
    messages: list[BrokerMessage]
    next_cursor: str


def next_batches(*, target: RelayTarget, position: Position, limit: int, pages: int) -> Iterator[Batch]:
    """The workspace's next pages after its cursor (at most `pages`), read one at a time as asked for."""
    cursor = position.cursor
    for _ in range(pages):
        page = read_feed(workspace_id=position.workspace_id, after=cursor, limit=limit)
        if not page.events:
            return
        yield Batch(
            position, [message(target, workspace=position.workspace, event=e) for e in page.events], page.next_cursor
        )
        cursor = page.next_cursor
        if len(page.events) < limit:
            return


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


def adopt_stream(*, stream: str, identity: str, now: dt.datetime) -> int:
    """Make sure the cursors for `stream` were moved against the stream the broker has now (by its
    identity): if not (it was deleted and made again, or none is stored yet), forget them, so the
    stream gets the feed from its beginning, and store the identity, both in one transaction; how
    many cursors were forgotten. A second relay doing the same waits for the first, then finds
    the identity stored."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO relay_stream (stream, identity, updated_at) VALUES (%s, NULL, %s)"
                " ON CONFLICT (stream) DO NOTHING",
                [stream, now],
            )
        row = RelayStream.objects.select_for_update().get(stream=stream)
        if row.identity == identity:
            return 0
        forgotten = forget_cursors(stream=stream)
        row.identity, row.updated_at = identity, now
        row.save(update_fields=["identity", "updated_at"])
        return forgotten


def forget_cursors(*, stream: str) -> int:
    """Start `stream` from the feed's beginning (it holds none of the events its cursors had
    passed); how many cursors there were."""
    return RelayCursor.objects.filter(stream=stream).delete()[0]


def relay_step(
    *, broker: Broker, target: RelayTarget, limit: int, now: dt.datetime, pages: int = PAGES_PER_TURN
) -> int:
    """Up to `pages` pages of each workspace with work, the workspaces in turn (so one busy workspace
    does not keep the others waiting); how many events were published. Batches are published one
    after another, each once the one before it is acknowledged and its cursor moved, so the stream
    holds them in feed order; the next one is read and encoded meanwhile. Raises what Broker.publish
    raises: the cursor stays after the last batch acknowledged, and the next step goes on from it."""
    positions = positions_with_work(stream=target.stream)
    if not positions:
        return 0
    published, pending = 0, None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-publish") as publisher:
        for position in positions:
            for batch in next_batches(target=target, position=position, limit=limit, pages=pages):
                if pending is not None:
                    published += _acknowledged(*pending, stream=target.stream, now=now)
                pending = (publisher.submit(broker.publish, batch.messages), batch)
        if pending is not None:
            published += _acknowledged(*pending, stream=target.stream, now=now)
    return published


def _acknowledged(publishing: Future, batch: Batch, *, stream: str, now: dt.datetime) -> int:
    publishing.result()  # raises the broker's error: the batch's cursor does not move
    advance_cursor(
        stream=stream,
        workspace_id=batch.position.workspace_id,
        cursor=batch.next_cursor,
        published=len(batch.messages),
        now=now,
    )
    return len(batch.messages)
