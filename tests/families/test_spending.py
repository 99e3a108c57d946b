"""Spending on the family card through the operations, against the card system emulator: limits,
check_available, clear, cancel, refund, expiry, and a card system that refuses, is down or times out."""

from __future__ import annotations

import datetime as dt

import pytest

from billy.core.errors import IdempotencyConflict, InvalidState, UpstreamUnavailable
from billy.families import queries, spending
from billy.families.models import Spending, SpendingRefund
from billy.ledger.limits import LimitExceeded
from billy.ledger.models import LedgerTransaction
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS, NOW
from tests.families.conftest import make_family

KID, PARTNER = "kid", "partner"
LIMIT = 100000  # 1,000.00


@pytest.fixture
def demo(taxi, cards):
    return make_family(taxi, cards, members=[(KID, "1000.00"), (PARTNER, None)])


def spend(taxi, demo, spending_id: str, amount: int, user_id: str = KID, now: dt.datetime = NOW):
    return spending.spend(
        workspace=taxi,
        family_id=demo.family.family_id,
        request=spending.SpendRequest(spending_id=spending_id, user_id=user_id, amount=amount),
        now=now,
    )


def available(taxi, demo, amount: int, user_id: str = KID, now: dt.datetime = NOW):
    return queries.check_available(
        workspace=taxi, family_id=demo.family.family_id, user_id=user_id, amount=amount, now=now
    )


def test_check_available_says_whether_the_amount_fits_the_limit(taxi, demo):
    assert available(taxi, demo, 99999).available
    assert not available(taxi, demo, 100001).available


def test_check_available_names_the_frame_and_when_it_resets(taxi, demo):
    found = available(taxi, demo, 100)

    assert (found.usage.cap, found.usage.used, found.usage.remaining, found.frame) == (LIMIT, 0, LIMIT, "MONTH")
    assert found.reset_at == dt.datetime(2026, 11, 30, 21, 0, tzinfo=dt.UTC)  # 1 December in Moscow


def test_an_unlimited_member_is_always_available(taxi, demo):
    assert available(taxi, demo, 99_999_999_999, user_id=PARTNER).available


def test_a_spending_holds_on_the_family_card_and_counts_against_the_limit(taxi, demo, cards):
    held, created = spend(taxi, demo, "ride-1", 40000)

    assert (created, held.status) == (True, Spending.Status.HELD)
    [payment] = cards.payments()
    assert (payment["id"], payment["card_id"], payment["uid"], payment["amount"]) == (
        held.card_payment_id,
        demo.card_id,
        KID,
        "400.00",
    )
    assert available(taxi, demo, 1).usage.used == 40000


def test_a_spending_past_the_limit_is_refused_and_holds_nothing(taxi, demo, cards):
    spend(taxi, demo, "ride-1", 90000)

    with pytest.raises(LimitExceeded) as refused:
        spend(taxi, demo, "ride-2", 10001)

    assert refused.value.details["remaining"] == "100.00"
    assert len(cards.payments()) == 1
    assert not Spending.objects.filter(spending_id="ride-2").exists()


def test_the_same_spending_id_answers_the_spending_and_holds_once(taxi, demo, cards):
    first, _ = spend(taxi, demo, "ride-1", 40000)
    again, created = spend(taxi, demo, "ride-1", 40000)

    assert (created, again.pk, len(cards.payments())) == (False, first.pk, 1)
    assert available(taxi, demo, 1).usage.used == 40000


def test_the_same_spending_id_with_another_amount_is_a_conflict(taxi, demo):
    spend(taxi, demo, "ride-1", 40000)

    with pytest.raises(IdempotencyConflict):
        spend(taxi, demo, "ride-1", 40001)


def test_clearing_less_counts_only_what_was_cleared_and_posts_it(taxi, demo, cards):
    spend(taxi, demo, "ride-1", 40000)

    cleared = spending.clear_spending(workspace=taxi, spending_id="ride-1", amount=25000, now=NOW)

    assert (cleared.status, cleared.cleared_amount) == (Spending.Status.CLEARED, 25000)
    assert cards.payments()[0]["cleared_amount"] == "250.00"
    assert available(taxi, demo, 1).usage.used == 25000
    assert cleared.transaction.kind == LedgerTransaction.Kind.FAMILY_SPENDING
    assert sorted(e.amount for e in cleared.transaction.entries.all()) == [-25000, 25000]


def test_a_refund_gives_the_headroom_back_and_posts_the_money_back(taxi, demo, cards):
    spend(taxi, demo, "ride-1", 40000)
    spending.clear_spending(workspace=taxi, spending_id="ride-1", amount=25000, now=NOW)

    refund, created = spending.refund_spending(
        workspace=taxi, spending_id="ride-1", request=spending.RefundRequest(refund_id="r-1", amount=5000), now=NOW
    )

    assert (created, refund.status) == (True, SpendingRefund.Status.SUCCEEDED)
    assert available(taxi, demo, 1).usage.used == 20000
    assert cards.payments()[0]["refunds"][0]["amount"] == "50.00"
    assert refund.transaction.kind == LedgerTransaction.Kind.FAMILY_REFUND


def test_a_refund_never_exceeds_what_was_cleared(taxi, demo):
    spend(taxi, demo, "ride-1", 40000)
    spending.clear_spending(workspace=taxi, spending_id="ride-1", amount=25000, now=NOW)

    with pytest.raises(spending.RefundExceedsSpending):
        spending.refund_spending(
            workspace=taxi, spending_id="ride-1", request=spending.RefundRequest(refund_id="r-1", amount=25001), now=NOW
        )


def test_a_cancelled_spending_releases_the_limit_and_the_card(taxi, demo, cards):
    spend(taxi, demo, "ride-1", 40000)

    cancelled = spending.cancel_spending(workspace=taxi, spending_id="ride-1", now=NOW)

    assert (cancelled.status, cancelled.cancel_reason) == (Spending.Status.CANCELLED, "REQUESTED")
    assert cards.payments()[0]["status"] == "CANCELLED"
    assert available(taxi, demo, 1).usage.used == 0


def test_a_cancelled_spending_cannot_be_cleared(taxi, demo):
    spend(taxi, demo, "ride-1", 40000)
    spending.cancel_spending(workspace=taxi, spending_id="ride-1", now=NOW)

    with pytest.raises(InvalidState):
        spending.clear_spending(workspace=taxi, spending_id="ride-1", amount=None, now=NOW)


def test_a_new_month_starts_with_the_whole_limit(taxi, demo):
    spend(taxi, demo, "ride-1", 100000)

    assert not available(taxi, demo, 1).available
    assert available(taxi, demo, 100000, now=dt.datetime(2026, 11, 30, 21, 0, tzinfo=dt.UTC)).available


def test_a_lower_limit_keeps_the_months_usage(taxi, demo):
    from billy.families import membership

    spend(taxi, demo, "ride-1", 30000)
    family = queries.get_family(workspace=taxi, family_id=demo.family.family_id)
    membership.set_member_limit(
        workspace=taxi,
        family_id=family.family_id,
        acting_user_id=family.owner_user_id,
        user_id=KID,
        change=membership.LimitChange(amount=50000, revision=family.revision),
        now=NOW,
    )

    found = available(taxi, demo, 20001)
    assert (found.available, found.usage.used, found.usage.remaining) == (False, 30000, 20000)


def test_holds_past_their_ttl_are_released_by_the_janitor(taxi, demo, cards, settings):
    spend(taxi, demo, "ride-1", 40000)
    later = NOW + dt.timedelta(seconds=settings.BILLY_FAMILY_HOLD_TTL_SECONDS)

    spending.expire_spendings(now=later)

    expired = Spending.objects.get(spending_id="ride-1")
    assert (expired.status, expired.cancel_reason) == (Spending.Status.CANCELLED, "EXPIRED")
    assert cards.payments()[0]["status"] == "CANCELLED"
    assert available(taxi, demo, 1).usage.used == 0


# -- the card system refuses, is down, or does not answer -------------------------------------------


def test_a_declined_card_releases_the_reservation(taxi, demo, cards):
    cards.decline(demo.card_id)

    with pytest.raises(spending.CardDeclined):
        spend(taxi, demo, "ride-1", 40000)

    assert available(taxi, demo, 1).usage.used == 0
    assert not Spending.objects.exists()


def test_a_card_system_that_is_down_holds_nothing_and_the_same_id_works_later(taxi, demo, cards):
    cards.inject("unavailable")

    with pytest.raises(UpstreamUnavailable):
        spend(taxi, demo, "ride-1", 40000)
    assert available(taxi, demo, 1).usage.used == 0

    held, created = spend(taxi, demo, "ride-1", 40000)
    assert (created, held.status, len(cards.payments())) == (True, Spending.Status.HELD, 1)


def test_an_error_that_did_nothing_is_read_back_and_released_past_the_horizon(taxi, demo, cards, settings):
    cards.inject("error")  # 500: the card system did nothing, but billy cannot know that

    with pytest.raises(UpstreamUnavailable):
        spend(taxi, demo, "ride-1", 40000)
    assert Spending.objects.get().status == Spending.Status.PENDING
    assert available(taxi, demo, 1).usage.used == 40000  # not released while the hold may still come

    spending.expire_spendings(now=NOW + dt.timedelta(seconds=settings.BILLY_CARD_CALL_HORIZON_SECONDS))

    assert Spending.objects.get().status == Spending.Status.FAILED
    assert available(taxi, demo, 1).usage.used == 0
    assert cards.payments() == []


@pytest.mark.slow
def test_a_hold_whose_answer_was_lost_is_adopted_and_counted_once(taxi, demo, cards, settings):
    cards.inject("commit_then_timeout", seconds=COMMIT_THEN_TIMEOUT_SECONDS)

    held, created = spend(taxi, demo, "ride-1", 40000)

    assert (created, held.status) == (True, Spending.Status.HELD)
    assert len(cards.payments()) == 1
    assert available(taxi, demo, 1).usage.used == 40000
    spending.expire_spendings(now=NOW + dt.timedelta(seconds=settings.BILLY_CARD_CALL_HORIZON_SECONDS))
    assert available(taxi, demo, 1).usage.used == 40000


@pytest.mark.slow
def test_a_clear_whose_answer_was_lost_is_read_back_and_posted_once(taxi, demo, cards):
    spend(taxi, demo, "ride-1", 40000)
    cards.inject("commit_then_timeout", seconds=COMMIT_THEN_TIMEOUT_SECONDS)

    cleared = spending.clear_spending(workspace=taxi, spending_id="ride-1", amount=30000, now=NOW)
    again = spending.clear_spending(workspace=taxi, spending_id="ride-1", amount=30000, now=NOW)

    assert (cleared.status, again.status) == (Spending.Status.CLEARED, Spending.Status.CLEARED)
    assert LedgerTransaction.objects.filter(kind="FAMILY_SPENDING").count() == 1
    assert available(taxi, demo, 1).usage.used == 30000
