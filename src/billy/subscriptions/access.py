"""What a subscription gives and tells its user: the plan's role in the Auth API, and notifications.

Both are jobs deferred in the transaction that changes the subscription, keyed by billy's ids, so
each grant, revoke and message happens once whatever the retries.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING

from billy.core.money import format_amount
from billy.core.tasks import defer
from billy.core.timestamps import format_timestamp

from .models import Subscription

if TYPE_CHECKING:
    from billy.integrations.auth_api.port import AuthApi
    from billy.integrations.notifications.port import Notifier


def defer_role_change(subscription: Subscription, *, grant: bool) -> None:
    """Grant (or revoke) the plan's role by a job committed with the caller's transaction."""
    # One lock per user and role: every grant and revoke of it runs one at a time, in the order
    # they were deferred (a late revoke of an old subscription never undoes a newer grant).
    defer(
        "billy.subscriptions.grant_role" if grant else "billy.subscriptions.revoke_role",
        lock=f"role-{subscription.workspace_id}-{subscription.plan.role}-{subscription.user_id}",
        subscription_id=str(subscription.pk),
    )


def defer_notification(subscription: Subscription, *, template: str, key: str) -> None:
    """Tell the user by a job committed with the caller's transaction; `key` makes it once, and the
    message is composed now, from the change it tells of."""
    defer(
        "billy.subscriptions.notify_user",
        subscription_id=str(subscription.pk),
        template=template,
        key=key,
        params=message_params(subscription, template=template),
    )


def grant_role(*, subscription_id: uuid.UUID | str, auth_api: AuthApi, now: dt.datetime) -> bool:
    """Grant the plan's role while the subscription is active (or past due); False when it no longer is.
    Raises the Auth API's errors (the job retries)."""
    subscription = Subscription.objects.select_related("workspace", "plan").get(pk=subscription_id)
    if subscription.status not in (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE):
        return False
    auth_api.grant_role(
        scope=subscription.workspace.name,
        user_id=subscription.user_id,
        role=subscription.plan.role,
        key=f"grant-{subscription.pk}",
    )
    Subscription.objects.filter(pk=subscription.pk).update(role_granted_at=now)
    return True


def revoke_role(*, subscription_id: uuid.UUID | str, auth_api: AuthApi, now: dt.datetime) -> bool:
    """Revoke the plan's role (keyed by the subscription, so a repeat does nothing more), unless
    another active subscription of the user needs the same role. Returns whether it revoked."""
    subscription = Subscription.objects.select_related("workspace", "plan").get(pk=subscription_id)
    still_needed = (
        Subscription.objects.filter(
            workspace_id=subscription.workspace_id,
            user_id=subscription.user_id,
            status__in=[Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE],
            plan__role=subscription.plan.role,
        )
        .exclude(pk=subscription.pk)
        .exists()
    )
    if still_needed:
        return False
    auth_api.revoke_role(
        scope=subscription.workspace.name,
        user_id=subscription.user_id,
        role=subscription.plan.role,
        key=f"revoke-{subscription.pk}",
    )
    Subscription.objects.filter(pk=subscription.pk).update(role_revoked_at=now)
    return True


def message_params(subscription: Subscription, *, template: str) -> dict[str, str]:
    """What a message tells of the subscription, as it is when the change is made."""
    payment = subscription.latest_payment()
    refund = subscription.refunds.order_by("-created_at").first()
    params = {
        "subscription_id": str(subscription.pk),
        "plan": subscription.plan.code,
        "plan_title": subscription.plan.title,
        "status": subscription.status,
        "period_start": format_timestamp(subscription.period_start),
        "period_end": format_timestamp(subscription.period_end),
    }
    if payment is not None:
        params |= {"amount": format_amount(payment.amount), "currency": payment.currency}
        if payment.failure_reason:
            params["failure_reason"] = payment.failure_reason
    if refund is not None and template == "subscription_refunded":
        params["refund_amount"] = format_amount(refund.amount)
    return params


def notify_user(
    *,
    subscription_id: uuid.UUID | str,
    template: str,
    key: str,
    notifier: Notifier,
    params: dict[str, str] | None = None,
) -> None:
    """Tell the user what happened (keyed by billy's ids: the service sends each message once).

    `params` were composed when the job was deferred, so every attempt sends the same body: a
    message already kept by the service, whose answer was lost, is not refused as another one with
    the same key once the subscription has moved on. Jobs deferred without them compose them now.
    """
    subscription = Subscription.objects.select_related("workspace", "plan").get(pk=subscription_id)
    if params is None:
        params = message_params(subscription, template=template)
    notifier.send(
        key=key, scope=subscription.workspace.name, user_id=subscription.user_id, template=template, params=params
    )
