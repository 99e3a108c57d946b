"""The end of a paid period: the subscription expires and its user loses the plan's role."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from .access import defer_notification, defer_role_change
from .models import Subscription


def expire_subscriptions(*, now: dt.datetime, limit: int = 500) -> int:
    """ACTIVE subscriptions whose period has ended become EXPIRED; each role revoke is deferred with
    it. A second run finds nothing to do."""
    with transaction.atomic():
        ids = list(
            Subscription.objects.select_for_update(skip_locked=True)
            .filter(status=Subscription.Status.ACTIVE, period_end__lte=now)
            .order_by("period_end")
            .values_list("pk", flat=True)[:limit]
        )
        expired = Subscription.objects.filter(pk__in=ids, status=Subscription.Status.ACTIVE).update(
            status=Subscription.Status.EXPIRED, ended_at=now, updated_at=now
        )
        for subscription in Subscription.objects.filter(pk__in=ids).select_related("workspace", "plan"):
            defer_role_change(subscription, grant=False)
            defer_notification(subscription, template="subscription_expired", key=f"expired-{subscription.pk}")
    return expired
