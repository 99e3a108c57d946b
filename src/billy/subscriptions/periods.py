"""What a payment's outcome does to its subscription's periods: the first period, a renewal, dunning,
and money that came when the subscription could no longer take it.

Called by `payments` with the payment and its subscription locked, inside the transaction that
records the provider's answer, so the subscription moves with the money or not at all.

- The first payment starts period 1 and keeps the card the provider saved (its id and last four
  digits); the renewal is planned BILLY_RENEWAL_LEAD_SECONDS before the period ends.
- A renewal (the payment of period `period_number + 1`) that succeeds starts the next period where
  the paid one ends, however late it came: no free days, no lost days.
- A declined renewal makes the subscription PAST_DUE (the role stays) and plans the next try
  BILLY_RENEWAL_RETRY_SECONDS after the first decline, while that is within
  BILLY_RENEWAL_GRACE_SECONDS of the period's end; after the last one it expires (at once when the
  period is over, else at its end, by `expiry`).
- Money for a subscription that is not waiting for it (ended, refunded, another period) is booked
  and given back by an automatic refund: never kept silently.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings

from billy.core.tasks import defer
from billy.integrations.yookassa.port import ProviderPayment

from .access import defer_notification, defer_role_change
from .expiry import end_subscription
from .models import Subscription, SubscriptionPayment, SubscriptionRefund
from .plans import add_period

logger = logging.getLogger(__name__)

LIVE = (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE)


def renewal_time(subscription: Subscription) -> dt.datetime | None:
    """When the saved card pays for the next period; None when renewal is off or no card is saved."""
    if not subscription.renews or not subscription.payment_method_id:
        return None
    return subscription.period_end - dt.timedelta(seconds=settings.BILLY_RENEWAL_LEAD_SECONDS)


def next_retry_time(subscription: Subscription) -> dt.datetime | None:
    """When dunning tries again after `renewal_failures` declines; None when it is over (the schedule
    is used up, the retry would fall past the grace period, or renewal was turned off)."""
    schedule = settings.BILLY_RENEWAL_RETRY_SECONDS
    failures = subscription.renewal_failures
    if not subscription.renews or not subscription.payment_method_id or failures > len(schedule):
        return None
    at = subscription.past_due_since + dt.timedelta(seconds=schedule[failures - 1])
    grace_end = subscription.period_end + dt.timedelta(seconds=settings.BILLY_RENEWAL_GRACE_SECONDS)
    return at if at < grace_end else None


def is_waiting_for(subscription: Subscription, payment: SubscriptionPayment) -> bool:
    """Whether the payment is what the subscription waits for: its first, or its next period's."""
    if subscription.status == Subscription.Status.PENDING:
        return payment.period == 1
    return subscription.status in LIVE and payment.period == subscription.period_number + 1


def start_first_period(
    subscription: Subscription, payment: SubscriptionPayment, provider_payment: ProviderPayment, *, now: dt.datetime
) -> None:
    """ACTIVE from now for one period, with the card the provider saved; grant and notify."""
    subscription.status = Subscription.Status.ACTIVE
    subscription.period_start = now
    subscription.period_end = add_period(now, subscription.plan.period, time_zone=payment.workspace.time_zone)
    subscription.activated_at = now
    if provider_payment.payment_method_saved and provider_payment.payment_method_id:
        subscription.payment_method_id = provider_payment.payment_method_id
    subscription.card_last4 = (provider_payment.card_last4 or "")[-4:]
    subscription.next_renewal_at = renewal_time(subscription)
    subscription.updated_at = now
    subscription.save()
    defer_role_change(subscription, grant=True)
    defer_notification(subscription, template="subscription_activated", key=f"activated-{subscription.pk}")


def extend_period(subscription: Subscription, payment: SubscriptionPayment, *, now: dt.datetime) -> None:
    """The renewal paid: the next period starts where the paid one ends; notify."""
    start = subscription.period_end
    subscription.status = Subscription.Status.ACTIVE
    subscription.period_start = start
    subscription.period_end = add_period(start, subscription.plan.period, time_zone=payment.workspace.time_zone)
    subscription.period_number = payment.period
    subscription.renewal_failures = 0
    subscription.past_due_since = None
    subscription.next_renewal_at = renewal_time(subscription)
    subscription.updated_at = now
    subscription.save()
    defer_notification(subscription, template="subscription_renewed", key=f"renewed-{payment.pk}")


def decline_renewal(subscription: Subscription, payment: SubscriptionPayment, *, now: dt.datetime) -> None:
    """The renewal was declined: PAST_DUE, the user told, the next try planned; when none is left
    and the period is over, the subscription expires now."""
    subscription.status = Subscription.Status.PAST_DUE
    subscription.renewal_failures += 1
    subscription.past_due_since = subscription.past_due_since or now
    subscription.next_renewal_at = next_retry_time(subscription)
    subscription.updated_at = now
    subscription.save()
    defer_notification(subscription, template="subscription_renewal_failed", key=f"renewal-failed-{payment.pk}")
    if subscription.next_renewal_at is None and subscription.period_end <= now:
        end_subscription(subscription, now=now)


def refund_late_payment(subscription: Subscription, payment: SubscriptionPayment, *, now: dt.datetime) -> None:
    """The payment was booked for a subscription that could not take it: give it back in full."""
    logger.warning(
        "payment %s (period %s) succeeded for subscription %s in %s: refunding it",
        payment.pk,
        payment.period,
        subscription.pk,
        subscription.status,
    )
    if SubscriptionRefund.objects.filter(
        payment=payment, status__in=[SubscriptionRefund.Status.PENDING, SubscriptionRefund.Status.SUCCEEDED]
    ).exists():
        return
    refund = SubscriptionRefund.objects.create(
        id=uuid.uuid4(),
        workspace_id=payment.workspace_id,
        subscription=subscription,
        payment=payment,
        amount=payment.amount,
        currency=payment.currency,
        reason=f"paid when the subscription was {subscription.status}",
        requested_by="billy",
        automatic=True,
        created_at=now,
        updated_at=now,
    )
    defer("billy.subscriptions.submit_refund", refund_id=str(refund.pk))
