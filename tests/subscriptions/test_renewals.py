"""Renewal with the saved card, at pinned times over real sockets to the emulators: one payment per
period at the provider, one ledger transaction, one event and one notification each; two runs at
once still make one payment."""

from __future__ import annotations

import datetime as dt
import threading

from django.db import connection

from billy.core import clock
from billy.subscriptions.models import Subscription, SubscriptionPayment
from billy.subscriptions.plans import add_period
from billy.subscriptions.renewals import renew_due_subscriptions, renew_subscription, renewal_payment_id

from .conftest import run_jobs
from .renewal_helpers import (
    card_payments,
    paid_subscription,
    payment_events,
    succeeded_at_provider,
    templates,
)

LEAD = dt.timedelta(hours=24)


def test_the_first_payment_asks_to_save_the_card_and_keeps_it(cinema, yookassa):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())

    [method] = yookassa.payment_methods()
    assert (subscription.payment_method_id, subscription.card_last4) == (method["id"], "4477")
    assert '"save_payment_method":true' in yookassa.requests(operation="create_payment")[0]["body"]
    assert subscription.next_renewal_at == subscription.period_end - LEAD


def test_a_card_the_provider_does_not_save_renews_nothing_and_expires(cinema, yookassa, notifications):
    subscription = paid_subscription(cinema, yookassa, now=clock.now(), card="4000000000000077")

    assert (subscription.payment_method_id, subscription.card_last4, subscription.next_renewal_at) == ("", "0077", None)
    assert renew_due_subscriptions(now=subscription.period_end) == 0
    assert len(yookassa.payments()) == 1


def test_three_renewals_in_a_row(cinema, yookassa, auth, notifications):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())
    ends = [subscription.period_end]

    for _ in range(3):
        due = Subscription.objects.get(pk=subscription.pk).next_renewal_at
        assert renew_due_subscriptions(now=due - dt.timedelta(seconds=1)) == 0
        assert renew_due_subscriptions(now=due) == 1
        run_jobs()
        renewed = Subscription.objects.get(pk=subscription.pk)
        ends.append(renewed.period_end)
        assert renewed.period_start == ends[-2]  # the next period starts where the paid one ends

    renewed = Subscription.objects.get(pk=subscription.pk)
    assert (renewed.status, renewed.period_number) == (Subscription.Status.ACTIVE, 4)
    assert ends[-1] == add_period(ends[-2], "MONTH", time_zone=cinema.time_zone)
    assert len(yookassa.payments()) == 4
    assert len(succeeded_at_provider(yookassa)) == 4
    periods = sorted(
        SubscriptionPayment.objects.filter(subscription=subscription).values_list("period", "attempt", "status")
    )
    assert periods == [(n, 1, "SUCCEEDED") for n in (1, 2, 3, 4)]
    assert (card_payments(), payment_events()) == (4, 4)
    assert templates(notifications) == ["subscription_activated"] + ["subscription_renewed"] * 3
    assert [e["op"] for e in auth.effects()] == ["grant"]


def test_renewal_payments_are_charged_by_the_saved_method_without_the_payer(cinema, yookassa):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())

    payment = renew_subscription(subscription_id=subscription.pk, now=subscription.next_renewal_at)

    assert payment.pk == renewal_payment_id(subscription.pk, 2, 1)
    at_provider = yookassa.payment(payment.provider_payment_id)
    assert at_provider["payment_method"]["id"] == subscription.payment_method_id
    assert at_provider["metadata"] == {"billy_payment_id": str(payment.pk)}
    assert "confirmation" not in at_provider
    assert yookassa.requests(operation="create_payment")[-1]["idempotence_key"] == str(payment.pk)


def test_a_renewal_run_again_makes_no_second_payment(cinema, yookassa):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())
    due = subscription.next_renewal_at

    first = renew_subscription(subscription_id=subscription.pk, now=due)
    again = renew_subscription(subscription_id=subscription.pk, now=due + dt.timedelta(minutes=1))
    assert renew_due_subscriptions(now=due + dt.timedelta(minutes=2)) == 0

    assert first.status == SubscriptionPayment.Status.SUCCEEDED
    assert again is None  # the next period is paid: nothing is due
    assert len(yookassa.requests(operation="create_payment")) == 2


def test_two_renewal_runs_at_once_make_one_payment(cinema, yookassa):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())
    due = subscription.next_renewal_at
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def run() -> None:
        try:
            start.wait()
            outcomes.append(renew_due_subscriptions(now=due))
        except Exception as e:  # the test reads it below
            outcomes.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes, key=str) == [1, 1]
    assert len(succeeded_at_provider(yookassa)) == 2  # the first period's and one renewal
    assert SubscriptionPayment.objects.filter(subscription=subscription, period=2).count() == 1
    assert {r["idempotence_key"] for r in yookassa.requests(operation="create_payment")[1:]} == {
        str(renewal_payment_id(subscription.pk, 2, 1))
    }
    assert card_payments() == 2
