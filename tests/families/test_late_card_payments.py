"""Card payments the card system makes after billy gave the call up: a late hold for a FAILED
spending is cancelled at the card system and never counted; a late refund is booked once."""

from __future__ import annotations

import datetime as dt

import pytest

from billy.core.errors import UpstreamUnavailable
from billy.families import queries, spending
from billy.families.models import Spending, SpendingRefund
from billy.ledger.models import LedgerTransaction
from tests.conftest import NOW, wait_for
from tests.families.conftest import make_family

KID = "kid"
TIMEOUT = 0.5  # billy's card read timeout here
LATE = 3.0  # the card system carries the call out this long after it came


@pytest.fixture
def demo(taxi, cards, settings):
    settings.CARDS_TIMEOUT = TIMEOUT
    return make_family(taxi, cards, members=[(KID, "1000.00")])


def used(taxi, demo) -> int:
    return queries.check_available(
        workspace=taxi, family_id=demo.family.family_id, user_id=KID, amount=1, now=NOW
    ).usage.used


def spend(taxi, demo, spending_id: str, amount: int):
    return spending.spend(
        workspace=taxi,
        family_id=demo.family.family_id,
        request=spending.SpendRequest(spending_id=spending_id, user_id=KID, amount=amount),
        now=NOW,
    )


@pytest.mark.slow
def test_a_hold_made_after_the_spending_failed_is_cancelled_and_never_counted(taxi, demo, cards, settings):
    horizon = dt.timedelta(seconds=settings.BILLY_CARD_CALL_HORIZON_SECONDS)
    cards.inject("delay", seconds=LATE)
    with pytest.raises(UpstreamUnavailable):
        spend(taxi, demo, "ride-1", 40000)
    spending.expire_spendings(now=NOW + horizon)
    assert Spending.objects.get().status == Spending.Status.FAILED
    assert used(taxi, demo) == 0

    late = wait_for(cards.payments)  # the card system made the hold after all
    assert [p["status"] for p in late] == ["HELD"]
    spending.expire_spendings(now=NOW + 2 * horizon)
    spending.expire_spendings(now=NOW + 3 * horizon)

    assert [p["status"] for p in cards.payments()] == ["CANCELLED"]
    failed = Spending.objects.get()
    assert (failed.status, failed.card_payment_id) == (Spending.Status.FAILED, late[0]["id"])
    assert used(taxi, demo) == 0
    assert not LedgerTransaction.objects.filter(kind__startswith="FAMILY").exists()


@pytest.mark.slow
def test_a_late_hold_past_the_reconciliation_window_is_left_alone(taxi, demo, cards, settings):
    settings.BILLY_CARD_RECONCILE_SECONDS = 600
    cards.inject("delay", seconds=LATE)
    with pytest.raises(UpstreamUnavailable):
        spend(taxi, demo, "ride-1", 40000)
    spending.expire_spendings(now=NOW + dt.timedelta(seconds=settings.BILLY_CARD_CALL_HORIZON_SECONDS))
    wait_for(cards.payments)

    spending.expire_spendings(now=NOW + dt.timedelta(seconds=601))

    assert [p["status"] for p in cards.payments()] == ["HELD"]


@pytest.mark.slow
def test_a_refund_made_after_it_failed_is_booked_once(taxi, demo, cards, settings):
    horizon = dt.timedelta(seconds=settings.BILLY_CARD_CALL_HORIZON_SECONDS)
    spend(taxi, demo, "ride-1", 40000)
    spending.clear_spending(workspace=taxi, spending_id="ride-1", amount=40000, now=NOW)
    request = spending.RefundRequest(refund_id="back-1", amount=10000)
    cards.inject("delay", seconds=LATE)
    with pytest.raises(UpstreamUnavailable):
        spending.refund_spending(workspace=taxi, spending_id="ride-1", request=request, now=NOW)
    cards.inject("delay", seconds=LATE)  # the janitor's repeat of the call is late too
    spending.expire_spendings(now=NOW + horizon)
    assert SpendingRefund.objects.get().status == SpendingRefund.Status.FAILED
    assert used(taxi, demo) == 40000

    wait_for(lambda: cards.payments()[0]["refunds"])  # the card system made the refund after all
    spending.expire_spendings(now=NOW + 2 * horizon)
    spending.expire_spendings(now=NOW + 3 * horizon)

    assert SpendingRefund.objects.get().status == SpendingRefund.Status.SUCCEEDED
    assert LedgerTransaction.objects.filter(kind="FAMILY_REFUND").count() == 1
    assert Spending.objects.get().refunded_amount == 10000
    assert used(taxi, demo) == 30000
