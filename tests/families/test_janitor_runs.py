"""One janitor run looks at each due spending once: a card system that answers 503 to every
read-back leaves them to the next run instead of being asked the same rows again and again."""

from __future__ import annotations

import datetime as dt

import pytest

from billy.families import spending
from billy.families.models import Member, Spending
from billy.families.tasks import expire_spendings_task
from tests.conftest import NOW
from tests.families.conftest import make_family

KID = "kid"
DUE = 130  # more than one batch


@pytest.fixture
def pending(taxi, cards):
    """DUE spendings still PENDING from NOW (past the call horizon by the real clock)."""
    demo = make_family(taxi, cards, members=[(KID, None)])
    member = Member.objects.get(user_id=KID)
    Spending.objects.bulk_create(
        Spending(
            workspace=taxi,
            family=demo.family,
            spending_id=f"ride-{i}",
            user_id=KID,
            limit_id=member.limit_id,
            frame_start=NOW,
            card_id=demo.card_id,
            amount=100,
            currency=taxi.currency,
            hold_expires_at=NOW + dt.timedelta(days=7),
            created_at=NOW,
            updated_at=NOW,
        )
        for i in range(DUE)
    )


def _reads(cards) -> int:
    return sum(1 for r in cards.requests() if r["method"] == "GET" and r["path"].startswith("/v1/payments"))


def test_a_run_asks_a_card_system_that_is_down_about_each_spending_once(taxi, pending, cards, settings):
    settings.BILLY_JANITOR_RUN_SECONDS = 20
    cards.inject("down", seconds=600)

    assert expire_spendings_task(timestamp=0) == DUE

    assert _reads(cards) == DUE
    assert Spending.objects.filter(status=Spending.Status.PENDING).count() == DUE


def test_rows_tried_are_left_out_of_the_next_pass(taxi, pending, cards):
    cards.inject("down", seconds=600)
    tried: set = set()
    now = NOW + dt.timedelta(minutes=5)

    assert spending.expire_spendings(now=now, skip=tried) == 100
    assert spending.expire_spendings(now=now, skip=tried) == DUE - 100
    assert spending.expire_spendings(now=now, skip=tried) == 0
