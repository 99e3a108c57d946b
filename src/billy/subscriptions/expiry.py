"""The end of a paid period: the subscription expires and its user loses the plan's role.

A subscription whose renewal is on and whose card is saved does not expire at its period's end while
its renewal may still pay: it expires when there is nothing more to try (renewal off, no saved
card, dunning over) and no payment of the next period is in flight, or at the latest
BILLY_RENEWAL_GRACE_SECONDS after the period's end. A payment that succeeds after that is booked
and refunded (see `periods`).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q

from .access import defer_notification, defer_role_change
from .models import Subscription, SubscriptionPayment


def end_subscription(subscription: Subscription, *, now: dt.datetime) -> None:
    """EXPIRED now (the caller holds the row), with the role revoke and the notice deferred."""
    subscription.status = Subscription.Status.EXPIRED
    subscription.ended_at = now
    subscription.next_renewal_at = None
    subscription.updated_at = now
    subscription.save()
    defer_role_change(subscription, grant=False)
    defer_notification(subscription, template="subscription_expired", key=f"expired-{subscription.pk}")


def _next_period_in_flight():
    return Exists(
        SubscriptionPayment.objects.filter(
            subscription=OuterRef("pk"),
            period=OuterRef("period_number") + 1,
            status__in=[SubscriptionPayment.Status.NEW, SubscriptionPayment.Status.PENDING],
        )
    )


def expire_subscriptions(*, now: dt.datetime, limit: int = 500) -> int:
    """Subscriptions whose paid period has ended, with nothing left to renew them, become EXPIRED;
    each role revoke is deferred with it. A second run finds nothing to do."""
    grace = dt.timedelta(seconds=settings.BILLY_RENEWAL_GRACE_SECONDS)
    over = Q(next_renewal_at__isnull=True, in_flight=False) | Q(period_end__lte=now - grace)
    with transaction.atomic():
        subscriptions = list(
            Subscription.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("workspace", "plan")
            .annotate(in_flight=_next_period_in_flight())
            .filter(over, status__in=[Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE], period_end__lte=now)
            .order_by(F("period_end"))[:limit]
        )
        for subscription in subscriptions:
            end_subscription(subscription, now=now)
    return len(subscriptions)
