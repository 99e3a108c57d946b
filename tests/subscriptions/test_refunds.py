"""A refund whose create call's answer is lost: past the provider's key window, the payment's refunds
at the provider tell whether it was made; one that another refund of the payment holds is never
adopted."""

from __future__ import annotations

import datetime as dt

import pytest

from billy.core import clock
from billy.core.errors import UpstreamUnavailable
from billy.subscriptions.models import Subscription, SubscriptionRefund
from billy.subscriptions.payments import recheck_payment, submit_payment
from billy.subscriptions.refunds import request_refund, submit_refund
from billy.subscriptions.subscribe import subscribe

from .conftest import run_jobs


def active_subscription(cinema, yookassa) -> Subscription:
    subscription, payment, _ = subscribe(
        workspace=cinema,
        user_id="user-1",
        plan_code="monthly",
        return_url="https://cinema.example/back",
        now=clock.now(),
    )
    payment = submit_payment(payment_id=payment.pk, now=clock.now())
    yookassa.pay(payment.provider_payment_id)
    recheck_payment(payment_id=payment.pk, now=clock.now())
    run_jobs()
    return Subscription.objects.get(pk=subscription.pk)


def refund_canceled_then_another(cinema, yookassa, *, fault: str) -> tuple[SubscriptionRefund, SubscriptionRefund]:
    """A first refund the provider cancels, then a second whose create call meets `fault`."""
    subscription = active_subscription(cinema, yookassa)
    yookassa.inject("refund_cancel", reason="rejected_by_payee")
    canceled, _ = request_refund(
        workspace=cinema, subscription_id=subscription.pk, reason="", requested_by="test", now=clock.now()
    )
    run_jobs()
    yookassa.inject(fault, operation="create_refund", seconds=2)
    second, _ = request_refund(
        workspace=cinema, subscription_id=subscription.pk, reason="", requested_by="test", now=clock.now()
    )
    with pytest.raises(UpstreamUnavailable):
        submit_refund(refund_id=second.pk, now=clock.now())
    return SubscriptionRefund.objects.get(pk=canceled.pk), second


def test_a_refund_made_at_the_provider_is_found_after_the_key_window(cinema, yookassa, settings):
    canceled, lost = refund_canceled_then_another(cinema, yookassa, fault="commit_then_timeout")
    later = clock.now() + dt.timedelta(seconds=settings.BILLY_PAYMENT_KEY_WINDOW_SECONDS + 1)

    resolved = submit_refund(refund_id=lost.pk, now=later)

    made = [r["id"] for r in yookassa.refunds() if r["status"] == "succeeded"]
    assert (canceled.status, resolved.status) == (SubscriptionRefund.Status.FAILED, SubscriptionRefund.Status.SUCCEEDED)
    assert [resolved.provider_refund_id] == made
    assert len(yookassa.requests(operation="create_refund")) == 2


def test_a_refund_the_provider_never_made_fails_and_takes_no_other_refunds(cinema, yookassa, settings):
    canceled, lost = refund_canceled_then_another(cinema, yookassa, fault="error")
    later = clock.now() + dt.timedelta(seconds=settings.BILLY_PAYMENT_KEY_WINDOW_SECONDS + 1)

    resolved = submit_refund(refund_id=lost.pk, now=later)

    assert canceled.provider_refund_id is not None
    assert (resolved.status, resolved.failure_reason, resolved.provider_refund_id) == (
        SubscriptionRefund.Status.FAILED,
        "not_created_at_provider",
        None,
    )
