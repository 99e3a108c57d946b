"""The relay's tests publish to the machine's NATS JetStream, each to a stream and subjects of its
own (so tests running side by side never see each other's messages), deleted at the end."""

from __future__ import annotations

import os
import uuid

import pytest
from django.db import connection

from billy.integrations.broker import Broker, get_broker
from billy.relay.checking import check_stream
from billy.relay.publishing import RelayTarget

NATS_URL = os.environ.get("BILLY_TEST_NATS_URL", "nats://127.0.0.1:4222")


@pytest.fixture
def target() -> RelayTarget:
    tag = uuid.uuid4().hex[:12]
    return RelayTarget(stream=f"TEST_{tag}", subject_prefix=f"t{tag}", duplicate_window_seconds=600)


@pytest.fixture
def broker(target, settings) -> Broker:
    settings.BILLY_BROKER_TIMEOUT = 20  # a busy machine, never a hung test: a failure says so
    made = get_broker(NATS_URL)
    yield made
    made.delete_stream(target.stream)
    made.close()


def relay_env(target: RelayTarget, **extra: str) -> dict[str, str]:
    """The environment of a `billy relay` the tests start."""
    return {
        "BILLY_BROKER_URL": NATS_URL,
        "BILLY_BROKER_STREAM": target.stream,
        "BILLY_BROKER_SUBJECT_PREFIX": target.subject_prefix,
        "BILLY_BROKER_DUPLICATE_WINDOW_SECONDS": str(target.duplicate_window_seconds),
        "BILLY_BROKER_TIMEOUT": "20",
        **extra,
    }


def write_events(workspace_id: int, count: int, *, per_transaction: int = 500) -> None:
    """`count` events of the feed's own test type, committed `per_transaction` at a time (so the
    feed orders them by transaction and by id, as it does billy's own)."""
    done = 0
    while done < count:
        n = min(per_transaction, count - done)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO event (workspace_id, type, version, data, created_at)
                SELECT %s, 'test.event', 1, jsonb_build_object('n', %s + g), now()
                  FROM generate_series(1, %s) g
                """,
                [workspace_id, done, n],
            )
        done += n


def holds_whole_feed(broker: Broker, target: RelayTarget, events: int) -> bool:
    """The stream holds the feed exactly, and the feed has `events` events. The count matters: any
    transaction anywhere in the cluster holds the feed's horizon back (it is the oldest of them), so
    an event just written may be missing from both feed and stream for a moment."""
    check = check_stream(broker=broker, target=target)
    return check.ok and check.feed_events == events
