"""Turning renewal off (cancel) and on again (resume).

Cancel keeps the subscription to its paid period's end, then it expires (no refund unless asked
for); resume turns renewal back on while the period lasts. Both are state transitions: repeated,
they return the subscription as it is; one the state no longer allows is `invalid_state`.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction

from billy.core.errors import BillyError, InvalidState
from billy.workspaces.models import Workspace

from .models import Subscription
from .periods import LIVE, next_retry_time, renewal_time
from .queries import SubscriptionNotFound, get_subscription


class PaymentMethodNotSaved(BillyError):
    code = "payment_method_not_saved"
    default_message = "The subscription has no saved card to renew with."


def _locked(workspace: Workspace, subscription_id: str) -> Subscription:
    try:
        pk = uuid.UUID(subscription_id)
    except ValueError:
        pk = None
    subscription = (
        Subscription.objects.select_for_update(of=("self",)).filter(workspace=workspace, pk=pk).first() if pk else None
    )
    if subscription is None:
        raise SubscriptionNotFound(f"No subscription {subscription_id!r} in workspace {workspace.name!r}.")
    return subscription


def cancel_renewal(*, workspace: Workspace, subscription_id: str, now: dt.datetime) -> Subscription:
    """Renewal off: no payment for the next period is started; the subscription stays to its period's
    end, then expires. Raises SubscriptionNotFound, InvalidState (the subscription has ended)."""
    with transaction.atomic():
        subscription = _locked(workspace, subscription_id)
        if subscription.renews and subscription.status not in (Subscription.Status.PENDING, *LIVE):
            raise InvalidState(
                f"The subscription has ended ({subscription.status}): there is no renewal to turn off.",
                details={"status": subscription.status},
            )
        if subscription.renews:
            subscription.renews = False
            subscription.next_renewal_at = None
            subscription.updated_at = now
            subscription.save(update_fields=["renews", "next_renewal_at", "updated_at"])
    return get_subscription(workspace=workspace, subscription_id=str(subscription.pk))


def resume_renewal(*, workspace: Workspace, subscription_id: str, now: dt.datetime) -> Subscription:
    """Renewal on again, while the paid period lasts: the saved card pays for the next one.
    Raises SubscriptionNotFound, InvalidState (not active, or its period is over) and
    PaymentMethodNotSaved (no card to renew with)."""
    with transaction.atomic():
        subscription = _locked(workspace, subscription_id)
        if not subscription.renews:
            if subscription.status not in LIVE or subscription.period_end <= now:
                raise InvalidState(
                    "Renewal can be turned on only while the subscription's paid period lasts.",
                    details={"status": subscription.status},
                )
            if not subscription.payment_method_id:
                raise PaymentMethodNotSaved("The provider did not save the card the subscription was paid with.")
            subscription.renews = True
            if subscription.status == Subscription.Status.PAST_DUE:
                subscription.next_renewal_at = next_retry_time(subscription) or now
            else:
                subscription.next_renewal_at = renewal_time(subscription)
            subscription.updated_at = now
            subscription.save(update_fields=["renews", "next_renewal_at", "updated_at"])
    return get_subscription(workspace=workspace, subscription_id=str(subscription.pk))
