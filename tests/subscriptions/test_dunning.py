"""A declined renewal: PAST_DUE with the role kept, retries on the schedule (1, 3 and 5 days after
the first decline), the user told each time; a late success starts the next period at the old
period's end; a card that keeps failing ends EXPIRED with the role revoked once. Money that comes
after billy gave up is booked and refunded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from billy.core import clock
from billy.core.errors import UpstreamUnavailable
from billy.ledger.models import LedgerTransaction
from billy.subscriptions.expiry import expire_subscriptions
from billy.subscriptions.models import Subscription, SubscriptionPayment, SubscriptionRefund
from billy.subscriptions.payments import recheck_payment
from billy.subscriptions.plans import add_period
from billy.subscriptions.renewals import renew_due_subscriptions, renew_subscription
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS

from .conftest import run_jobs
from .renewal_helpers import card_payments, paid_subscription, succeeded_at_provider, templates

DAY = dt.timedelta(days=1)
INSUFFICIENT_FUNDS_AT_RENEWAL = "4000000000000101"
EXPIRED_AT_RENEWAL = "4000000000000119"


def _renew_at(now: dt.datetime) -> int:
    looked_at = renew_due_subscriptions(now=now)
    run_jobs()
    return looked_at


def test_a_declined_renewal_is_past_due_keeps_the_role_and_tells_the_user(cinema, yookassa, auth, notifications):
    subscription = paid_subscription(cinema, yookassa, now=clock.now(), card=INSUFFICIENT_FUNDS_AT_RENEWAL)
    first_try = subscription.next_renewal_at

    assert _renew_at(first_try) == 1

    past_due = Subscription.objects.get(pk=subscription.pk)
    assert (past_due.status, past_due.renewal_failures) == (Subscription.Status.PAST_DUE, 1)
    assert past_due.next_renewal_at == first_try + DAY
    assert (past_due.period_start, past_due.period_end) == (subscription.period_start, subscription.period_end)
    assert auth.roles("cinema", "user-1") == ["subscriber"]
    assert templates(notifications) == ["subscription_activated", "subscription_renewal_failed"]
    declined = SubscriptionPayment.objects.get(subscription=subscription, period=2)
    assert (declined.status, declined.failure_reason) == ("FAILED", "insufficient_funds")


def test_retries_follow_the_schedule_and_a_late_success_starts_at_the_old_end(cinema, yookassa, auth, notifications):
    subscription = paid_subscription(cinema, yookassa, now=clock.now(), card=INSUFFICIENT_FUNDS_AT_RENEWAL)
    first_try, old_end = subscription.next_renewal_at, subscription.period_end
    _renew_at(first_try)

    assert _renew_at(first_try + DAY - dt.timedelta(seconds=1)) == 0  # not before its time
    assert _renew_at(first_try + DAY) == 1  # the first retry: declined again
    assert Subscription.objects.get(pk=subscription.pk).next_renewal_at == first_try + 3 * DAY
    yookassa.decline_method(subscription.payment_method_id, None)  # the cardholder tops the card up
    assert _renew_at(first_try + 3 * DAY) == 1  # the second retry pays

    renewed = Subscription.objects.get(pk=subscription.pk)
    assert (renewed.status, renewed.period_number, renewed.renewal_failures) == (Subscription.Status.ACTIVE, 2, 0)
    assert renewed.period_start == old_end  # no free days, no lost days
    assert renewed.period_end == add_period(old_end, "MONTH", time_zone=cinema.time_zone)
    attempts = SubscriptionPayment.objects.filter(subscription=subscription, period=2).order_by("attempt")
    assert [(p.attempt, p.status) for p in attempts] == [(1, "FAILED"), (2, "FAILED"), (3, "SUCCEEDED")]
    assert len(succeeded_at_provider(yookassa)) == 2
    assert card_payments() == 2
    assert templates(notifications) == [
        "subscription_activated",
        "subscription_renewal_failed",
        "subscription_renewal_failed",
        "subscription_renewed",
    ]
    assert [e["op"] for e in auth.effects()] == ["grant"]


def test_a_card_that_keeps_failing_ends_expired_with_the_role_revoked_once(cinema, yookassa, auth, notifications):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())
    yookassa.expire_method(subscription.payment_method_id)
    first_try = subscription.next_renewal_at

    for offset in (0, 1, 3, 5):
        assert _renew_at(first_try + offset * DAY) == 1

    expired = Subscription.objects.get(pk=subscription.pk)
    assert (expired.status, expired.renewal_failures, expired.next_renewal_at) == ("EXPIRED", 4, None)
    assert expire_subscriptions(now=first_try + 30 * DAY) == 0
    assert _renew_at(first_try + 30 * DAY) == 0
    run_jobs()
    assert [e["op"] for e in auth.effects()] == ["grant", "revoke"]
    assert auth.roles("cinema", "user-1") == []
    assert templates(notifications) == [
        "subscription_activated",
        *["subscription_renewal_failed"] * 4,
        "subscription_expired",
    ]
    assert [p.failure_reason for p in SubscriptionPayment.objects.filter(period=2)] == ["card_expired"] * 4
    assert len(succeeded_at_provider(yookassa)) == 1


def test_a_card_expired_at_renewal_is_declined_as_expired(cinema, yookassa):
    subscription = paid_subscription(cinema, yookassa, now=clock.now(), card=EXPIRED_AT_RENEWAL)

    payment = renew_subscription(subscription_id=subscription.pk, now=subscription.next_renewal_at)

    assert (payment.status, payment.failure_reason) == ("FAILED", "card_expired")


def test_dunning_ends_at_the_grace_period(cinema, yookassa, auth, settings):
    settings.BILLY_RENEWAL_GRACE_SECONDS = 2 * 24 * 3600  # the retry after 3 days would fall past it
    subscription = paid_subscription(cinema, yookassa, now=clock.now(), card=INSUFFICIENT_FUNDS_AT_RENEWAL)
    first_try = subscription.next_renewal_at

    _renew_at(first_try)
    _renew_at(first_try + DAY)  # the first retry, at the period's end: declined, and none is left

    expired = Subscription.objects.get(pk=subscription.pk)
    assert (expired.status, expired.next_renewal_at) == (Subscription.Status.EXPIRED, None)
    assert _renew_at(first_try + 3 * DAY) == 0
    assert len(yookassa.payments()) == 3


def test_a_renewal_paid_after_billy_gave_up_is_booked_and_refunded(cinema, yookassa, auth, notifications):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())
    # The provider's clock reads the pinned time too: billy looks payments up by their creation time.
    yookassa.advance_clock((subscription.next_renewal_at - clock.now()).total_seconds())
    # The provider takes the renewal but its answer is lost, and the look-up fails too.
    yookassa.inject("commit_then_timeout", operation="create_payment", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    yookassa.inject("error", operation="list_payments")
    with pytest.raises(UpstreamUnavailable):
        renew_subscription(subscription_id=subscription.pk, now=subscription.next_renewal_at)
    payment = SubscriptionPayment.objects.get(subscription=subscription, period=2)
    assert payment.status == SubscriptionPayment.Status.NEW
    gave_up_at = subscription.period_end + dt.timedelta(seconds=settings.BILLY_RENEWAL_GRACE_SECONDS)
    assert expire_subscriptions(now=gave_up_at) == 1

    paid = recheck_payment(payment_id=payment.pk, now=gave_up_at)  # found by its metadata: it succeeded
    run_jobs()

    assert paid.status == SubscriptionPayment.Status.SUCCEEDED
    refund = SubscriptionRefund.objects.get(payment=paid)
    assert (refund.status, refund.automatic, refund.amount) == ("SUCCEEDED", True, paid.amount)
    kinds = LedgerTransaction.objects.filter(kind__startswith="CARD").values_list("kind", flat=True)
    assert sorted(kinds) == ["CARD_PAYMENT", "CARD_PAYMENT", "CARD_REFUND"]
    assert [(r["status"], r["payment_id"]) for r in yookassa.refunds()] == [("succeeded", paid.provider_payment_id)]
    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.EXPIRED
    assert templates(notifications)[-1] == "subscription_payment_refunded"
    assert len(yookassa.requests(operation="create_payment")) == 2
