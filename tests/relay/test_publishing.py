"""The relay's step against the machine's NATS JetStream: the feed in order, one message per event,
the cursor moved only past what the stream acknowledged, a repeat after a crash dropped."""

from __future__ import annotations

import json

from billy.core.pagination import encode_cursor
from billy.events.queries import read_feed
from billy.relay.checking import check_stream
from billy.relay.models import RelayCursor
from billy.relay.publishing import advance_cursor, message, positions_with_work, relay_step
from billy.relay.queries import relay_lag
from tests.charges.conftest import fund, make_client
from tests.conftest import NOW, make_workspace, wait_for
from tests.relay.conftest import holds_whole_feed, write_events
from tests.webhooks.test_delivery import charge


def relay_until_done(broker, target, events: int) -> None:
    """Steps until the feed has `events` events and the stream holds them all (another transaction
    of the cluster may hold an event back from the feed for a moment, so this polls)."""
    broker.ensure_stream(target.spec)

    def done() -> bool:
        relay_step(broker=broker, target=target, limit=100, now=NOW)
        return holds_whole_feed(broker, target, events)

    wait_for(done, timeout=120)


def test_every_event_is_published_once_in_feed_order_under_its_workspace_and_type(workspace, broker, target):
    client = make_client(workspace)
    fund(client, 100_00)
    for i in range(3):
        charge(client, f"ch-{i}", NOW)
    other = make_workspace("realty", balance_service_id=81)
    write_events(other.pk, 250, per_transaction=60)

    relay_until_done(broker, target, 254)

    check = check_stream(broker=broker, target=target)
    assert (check.feed_events, check.stream_messages) == (254, 254)
    first = read_feed(workspace_id=workspace.pk, after=None, limit=10).events
    stored = [m for m in broker.read_stream(target.stream) if m.headers["Billy-Workspace"] == "c2b"]
    assert [m.message_id for m in stored] == [str(e.id) for e in first]
    assert [m.subject for m in stored] == [f"{target.subject_prefix}.c2b.{e.type}" for e in first]
    assert json.loads(stored[-1].body) == json.loads(first[-1].as_json())
    assert stored[-1].headers["Billy-Cursor"] == first[-1].cursor


def test_a_batch_published_again_after_a_crash_is_dropped_by_the_stream(workspace, broker, target):
    write_events(workspace.pk, 120)
    broker.ensure_stream(target.spec)
    # What a relay killed after the acknowledgement, before moving its cursor, had done:
    position = wait_for(lambda: positions_with_work(stream=target.stream))[0]
    events = read_feed(workspace_id=workspace.pk, after=position.cursor, limit=100).events
    assert len(events) == 100
    broker.publish([message(target, workspace="c2b", event=e) for e in events])
    assert not RelayCursor.objects.exists()

    relay_until_done(broker, target, 120)

    check = check_stream(broker=broker, target=target)
    assert (check.feed_events, check.stream_messages, check.ok) == (120, 120, True)
    # Acknowledged, repeats included: 120 events, 100 of them acknowledged before the crash too.
    assert RelayCursor.objects.get(stream=target.stream).published_count == 120


def test_the_cursor_never_moves_back(workspace, broker, target):
    advance_cursor(stream=target.stream, workspace_id=workspace.pk, cursor=encode_cursor(10, 5), published=3, now=NOW)
    advance_cursor(stream=target.stream, workspace_id=workspace.pk, cursor=encode_cursor(9, 7), published=2, now=NOW)

    row = RelayCursor.objects.get(stream=target.stream, workspace=workspace)
    assert (row.after_xid, row.after_event_id, row.published_count) == (10, 5, 3)


def test_the_lag_counts_what_is_not_published_yet(workspace, broker, target):
    write_events(workspace.pk, 30)

    before = wait_for(lambda: {row.workspace: row for row in relay_lag(stream=target.stream) if row.behind == 30})
    relay_until_done(broker, target, 30)
    after = {row.workspace: row for row in relay_lag(stream=target.stream)}

    assert (before["c2b"].behind, before["c2b"].oldest_unpublished_at is not None) == (30, True)
    assert (after["c2b"].behind, after["c2b"].oldest_unpublished_at, after["c2b"].published_count) == (0, None, 30)
