"""The feed across a change in the number of digits of the transaction id (99 → 100, 999 → 1000, …).

The cursor compares xids as numbers; a page sorted any other way (as text, say) hands out events
after the cursor's position and skips the ones before it. Moving a shared cluster's transaction
counter to the next power of ten can cost hundreds of millions of transactions, so the events are
written with the xids they would have had (the column takes an explicit value like any other):
the xids straddle several digit boundaries, and ids run against them, so id order, text order and
numeric order all differ. The feed shows only xids below the snapshot's xmin, so a young cluster
(a new machine's) is first moved past the largest of them, a few thousand transactions at most.
"""

from __future__ import annotations

import random

import pytest
from django.db import connection

from billy.events.queries import read_feed
from tests.conftest import NOW

# Several events per transaction, on both sides of three digit boundaries.
XIDS = [98, 99, 99, 100, 101, 999, 1000, 1000, 1001, 9_999, 10_000, 10_000, 10_001]


def _move_transaction_counter_past(xid: int) -> None:
    """Commit empty transactions until the cluster has handed out every xid up to `xid` (with no
    long transaction open elsewhere, as in the suite, they are then all below the snapshot's xmin)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        missing = xid + 1 - cursor.fetchone()[0]
        if missing > 0:
            loop = f"FOR i IN 1..{int(missing) + 1} LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP"
            cursor.execute(f"DO $$ BEGIN {loop}; END $$")


@pytest.fixture
def committed(workspace) -> list[int]:
    """Event ids in feed order ((xid, id), numerically), written in a shuffled order."""
    _move_transaction_counter_past(max(XIDS))
    order = list(range(len(XIDS)))
    random.Random(8).shuffle(order)
    written: list[tuple[int, int]] = []
    with connection.cursor() as cursor:
        for index in order:
            cursor.execute(
                "INSERT INTO event (workspace_id, type, data, created_at, xid)"
                " VALUES (%s, 'test.event', '{}', %s, %s::text::xid8) RETURNING id",
                [workspace.pk, NOW, str(XIDS[index])],
            )
            written.append((XIDS[index], cursor.fetchone()[0]))
    return [event_id for _, event_id in sorted(written)]


def test_events_across_digit_boundaries_come_in_xid_order(workspace, committed):
    page = read_feed(workspace_id=workspace.pk, after=None, limit=100)

    assert [e.id for e in page.events] == committed


@pytest.mark.parametrize("limit", range(1, len(XIDS) + 2))
def test_paging_across_digit_boundaries_never_skips_or_repeats(workspace, committed, limit):
    seen: list[int] = []
    cursor = None
    for _ in range(len(XIDS) + 2):
        page = read_feed(workspace_id=workspace.pk, after=cursor, limit=limit)
        seen.extend(e.id for e in page.events)
        cursor = page.next_cursor
        if not page.events:
            break

    assert seen == committed


def test_resuming_after_the_last_page_returns_nothing_new(workspace, committed):
    last = read_feed(workspace_id=workspace.pk, after=None, limit=len(XIDS))

    assert read_feed(workspace_id=workspace.pk, after=last.next_cursor, limit=len(XIDS)).events == []
