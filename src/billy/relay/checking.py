"""Checking a stream against the feed: every event of the feed in it exactly once (by message id),
in feed order per workspace, under its workspace's subject. `billy relay --check` prints it; the
tests, the benchmark and the fault run rely on it."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import connection

from billy.events.queries import visible
from billy.integrations.broker import Broker

from .publishing import RelayTarget


@dataclass(frozen=True)
class StreamCheck:
    feed_events: int
    stream_messages: int
    missing: list[int] = field(default_factory=list)  # event ids of the feed not in the stream
    repeated: list[int] = field(default_factory=list)  # event ids in the stream more than once
    unknown: list[str] = field(default_factory=list)  # message ids that are no event of the feed
    out_of_order: list[str] = field(default_factory=list)  # workspaces whose events are out of order
    wrong_subject: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.repeated or self.unknown or self.out_of_order or self.wrong_subject)

    def summary(self) -> str:
        head = f"{self.stream_messages} messages in the stream for {self.feed_events} events in the feed"
        if self.ok:
            return f"{head}: each exactly once, in feed order per workspace"
        parts = [
            f"{len(items)} {what} (first: {items[:5]})"
            for what, items in (
                ("missing", self.missing),
                ("repeated", self.repeated),
                ("not in the feed", self.unknown),
                ("workspaces out of order", self.out_of_order),
                ("under a wrong subject", self.wrong_subject),
            )
            if items
        ]
        return f"{head}: " + "; ".join(parts)


def feed_in_order() -> dict[str, list[tuple[int, str]]]:
    """Every event of the feed as (id, type), in feed order, per workspace name."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT w.name, e.id, e.type FROM event e JOIN workspace w ON w.id = e.workspace_id
             WHERE {visible("e")}
             ORDER BY w.name, e.xid, e.id
            """  # noqa: S608 (a fixed fragment, no input)
        )
        feed: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for name, event_id, event_type in cursor.fetchall():
            feed[name].append((event_id, event_type))
    return feed


def check_stream(*, broker: Broker, target: RelayTarget) -> StreamCheck:
    """Read the stream whole and compare it with the feed. Raises what Broker.read_stream raises."""
    messages = broker.read_stream(target.stream)  # first: the feed read after it holds every event in it
    feed = feed_in_order()
    expected = {event_id: (ws, t) for ws, events in feed.items() for event_id, t in events}
    counts = Counter(m.message_id for m in messages)
    stream_order: dict[str, list[int]] = defaultdict(list)
    unknown, wrong_subject, seen = [], [], set()
    for m in messages:
        event_id = int(m.message_id) if m.message_id.isdigit() else None
        if event_id not in expected:
            unknown.append(m.message_id)
            continue
        workspace, event_type = expected[event_id]
        if m.subject != target.subject(workspace=workspace, event_type=event_type):
            wrong_subject.append(event_id)
        if event_id not in seen:
            seen.add(event_id)
            stream_order[workspace].append(event_id)
    out_of_order = [ws for ws, ids in sorted(stream_order.items()) if ids != [e for e, _ in feed[ws] if e in seen]]
    return StreamCheck(
        feed_events=len(expected),
        stream_messages=len(messages),
        missing=sorted(set(expected) - seen),
        repeated=sorted(int(i) for i, n in counts.items() if n > 1 and i.isdigit()),
        unknown=unknown,
        out_of_order=out_of_order,
        wrong_subject=wrong_subject,
    )
