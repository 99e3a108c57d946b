"""Renewal: the saved card pays for the next period, once, whoever runs the job and however often.

Write first, then call out: the next period's payment is committed (with the job that finishes the
provider call) before the provider is called. Its id, which is the provider call's Idempotence-Key
and is in the provider payment's metadata, is derived from (subscription, period number, attempt),
and the database holds at most one payment of a period in flight or paid
(`payment_one_per_period`): two runs at once make one payment, and a run killed after the provider
answered leaves a NEW payment that the retry (same key, same body) or the janitor's read-back by
metadata resolves, never a second charge. What the answer does to the subscription is in `periods`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid

from django.conf import settings
from django.db import transaction

from billy.core.errors import BillyError, InvalidState
from billy.core.tasks import defer

from . import queries
from .models import Subscription, SubscriptionPayment
from .payments import submit_payment
from .periods import LIVE

logger = logging.getLogger(__name__)

# Renewal payment ids are UUIDv5 in this namespace of (subscription id, period, attempt).
RENEWAL_NAMESPACE = uuid.UUID("7c1f5c1e-4a7e-5b7e-9a55-2f0e3c1d6b10")


def renewal_payment_id(subscription_id: uuid.UUID | str, period: int, attempt: int) -> uuid.UUID:
    """The id (and provider Idempotence-Key) of the `attempt`-th try at paying for `period`."""
    return uuid.uuid5(RENEWAL_NAMESPACE, f"{subscription_id}:{period}:{attempt}")


def start_renewal(*, subscription_id: uuid.UUID | str, now: dt.datetime) -> SubscriptionPayment | None:
    """The next period's payment by the saved card, committed with the job that calls the provider.

    Returns the payment of the next period already in flight or paid when there is one, the new one
    when the renewal is due, and None when there is nothing to do (renewal off, not due, ended)."""
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("plan", "workspace")
            .filter(pk=subscription_id)
            .first()
        )
        if subscription is None or subscription.status not in LIVE:
            return None
        period = subscription.period_number + 1
        payments = SubscriptionPayment.objects.filter(subscription=subscription, period=period)
        current = payments.filter(
            status__in=[
                SubscriptionPayment.Status.NEW,
                SubscriptionPayment.Status.PENDING,
                SubscriptionPayment.Status.SUCCEEDED,
            ]
        ).first()
        if current is not None:
            return current
        due = subscription.next_renewal_at is not None and subscription.next_renewal_at <= now
        if not (due and subscription.renews and subscription.payment_method_id):
            return None
        attempt = payments.count() + 1
        first = subscription.payments.order_by("period", "attempt").first()
        payment = SubscriptionPayment.objects.create(
            id=renewal_payment_id(subscription.pk, period, attempt),
            workspace=subscription.workspace,
            subscription=subscription,
            period=period,
            attempt=attempt,
            amount=subscription.plan.price,
            currency=subscription.plan.currency,
            description=first.description if first else subscription.plan.title[:128],
            return_url=first.return_url if first else "https://invalid/",
            payment_method_id=subscription.payment_method_id,
            created_at=now,
            updated_at=now,
        )
        Subscription.objects.filter(pk=subscription.pk).update(next_renewal_at=None, updated_at=now)
        # The outbox: if this process dies before the provider answers, the worker makes the call.
        defer(
            "billy.subscriptions.submit_payment",
            payment_id=str(payment.pk),
            schedule_in={"seconds": int(settings.YOOKASSA_TIMEOUT) + 5},
        )
    return payment


def renew_subscription(*, subscription_id: uuid.UUID | str, now: dt.datetime) -> SubscriptionPayment | None:
    """Start the renewal when it is due and make sure the provider has its payment. Idempotent.
    Raises UpstreamUnavailable when the provider could not answer (the payment stays NEW: the
    deferred job or the janitor finishes it with the same key)."""
    payment = start_renewal(subscription_id=subscription_id, now=now)
    if payment is not None and payment.status == SubscriptionPayment.Status.NEW:
        return submit_payment(payment_id=payment.pk, now=now)
    return payment


def retry_renewal_now(*, subscription_id: uuid.UUID | str, now: dt.datetime) -> SubscriptionPayment | None:
    """An operator's "retry renewal now": the next try is made at once instead of on schedule.
    Raises InvalidState when the subscription cannot renew (ended, renewal off, no saved card)."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
        if subscription.status not in LIVE or not subscription.renews or not subscription.payment_method_id:
            raise InvalidState(
                "Only a live subscription with renewal on and a saved card can renew.",
                details={"status": subscription.status},
            )
        if subscription.next_renewal_at is not None:
            subscription.next_renewal_at = min(subscription.next_renewal_at, now)
            subscription.save(update_fields=["next_renewal_at"])
    return renew_subscription(subscription_id=subscription_id, now=now)


def renew_due_subscriptions(*, now: dt.datetime, until: float | None = None) -> int:
    """Renew every subscription whose renewal is due; returns how many were looked at. One that
    cannot be renewed now stays due for the next run and never stops the others. Past `until`
    (time.monotonic()) it takes no more."""
    looked_at = 0
    for subscription_id in queries.due_renewals(now=now):
        if until is not None and time.monotonic() >= until:
            break
        looked_at += 1
        try:
            renew_subscription(subscription_id=subscription_id, now=now)
        except BillyError as e:
            logger.warning("renewal of subscription %s stays open: %s", subscription_id, e.message)
        except Exception:  # one broken subscription must not stop the others
            logger.exception("subscription %s could not be renewed", subscription_id)
    return looked_at
