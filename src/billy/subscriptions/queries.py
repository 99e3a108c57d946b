"""Reads for card subscriptions."""

from __future__ import annotations

import datetime as dt
import uuid

from billy.core.errors import BillyError, InvalidState, ValidationFailed
from billy.core.pagination import check_limit, decode_cursor, encode_cursor
from billy.core.validation import check_text
from billy.workspaces.models import Workspace

from .models import Plan, Subscription, SubscriptionPayment, SubscriptionRefund
from .plans import refund_amount


class SubscriptionNotFound(BillyError):
    code = "subscription_not_found"
    default_message = "No subscription with this id."


def list_plans(*, workspace: Workspace) -> list[Plan]:
    return list(Plan.objects.filter(workspace=workspace, is_active=True).order_by("code"))


def get_subscription(*, workspace: Workspace, subscription_id: str) -> Subscription:
    """The subscription with its plan, payments and refunds. Raises SubscriptionNotFound."""
    try:
        pk = uuid.UUID(subscription_id)
    except ValueError:
        pk = None
    subscription = (
        Subscription.objects.select_related("plan")
        .prefetch_related("payments", "refunds")
        .filter(workspace=workspace, pk=pk)
        .first()
        if pk
        else None
    )
    if subscription is None:
        raise SubscriptionNotFound(f"No subscription {subscription_id!r} in workspace {workspace.name!r}.")
    return subscription


def get_subscription_refund(*, workspace: Workspace, refund_id: str) -> SubscriptionRefund:
    """A refund of one of the workspace's subscriptions. Raises SubscriptionNotFound."""
    refund = SubscriptionRefund.objects.filter(workspace=workspace, pk=refund_id).first()
    if refund is None:
        raise SubscriptionNotFound(f"No subscription refund {refund_id!r} in workspace {workspace.name!r}.")
    return refund


def list_user_subscriptions(
    *, workspace: Workspace, user_id: str, limit: int, cursor: str | None
) -> tuple[list[Subscription], str | None]:
    """Newest first, keyset-paginated by (created_at, id). Raises ValidationFailed."""
    errors: dict[str, list[str]] = {}
    check_text(errors, "user_id", user_id, max_length=128)
    if errors:
        raise ValidationFailed(errors)
    check_limit(limit)
    rows = Subscription.objects.select_related("plan").prefetch_related("payments", "refunds")
    rows = rows.filter(workspace=workspace, user_id=user_id).order_by("-created_at", "-id")
    if cursor:
        last = _cursor_row(workspace, user_id, cursor)
        rows = rows.filter(created_at__lte=last.created_at).exclude(created_at=last.created_at, id__gte=last.id)
    page = list(rows[: limit + 1])
    next_cursor = encode_cursor("subscription", page[limit - 1].id) if len(page) > limit else None
    return page[:limit], next_cursor


def _cursor_row(workspace: Workspace, user_id: str, cursor: str) -> Subscription:
    """The last row of the previous page (a cursor names it)."""
    (last_id,) = decode_cursor(cursor, "subscription", uuid.UUID)
    last = Subscription.objects.filter(workspace=workspace, user_id=user_id, pk=last_id).first()
    if last is None:
        raise ValidationFailed({"cursor": ["Not a cursor this list handed out."]})
    return last


def open_payments(*, untouched_since: dt.datetime, limit: int = 200) -> list[uuid.UUID]:
    return list(
        SubscriptionPayment.objects.filter(
            status__in=[SubscriptionPayment.Status.NEW, SubscriptionPayment.Status.PENDING],
            updated_at__lt=untouched_since,
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )


def due_renewals(*, now: dt.datetime, limit: int = 200) -> list[uuid.UUID]:
    """Subscriptions whose next try at paying for the next period is due, the longest waiting first."""
    return list(
        Subscription.objects.filter(
            status__in=[Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE], next_renewal_at__lte=now
        )
        .order_by("next_renewal_at")
        .values_list("pk", flat=True)[:limit]
    )


def open_refunds(*, untouched_since: dt.datetime, limit: int = 200) -> list[uuid.UUID]:
    return list(
        SubscriptionRefund.objects.filter(status=SubscriptionRefund.Status.PENDING, updated_at__lt=untouched_since)
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )


def refund_quote(*, subscription: Subscription, now: dt.datetime) -> tuple[int, str]:
    """(amount, currency) a refund of the subscription asked for now would give back, by its plan's
    policy, as `request_refund` would compute it. Raises InvalidState (not active) and RefundNotAllowed."""
    if subscription.status not in (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE):
        raise InvalidState(f"Only an active subscription can be refunded; this one is {subscription.status}.")
    payment = subscription.payments.get(status=SubscriptionPayment.Status.SUCCEEDED, period=subscription.period_number)
    amount = refund_amount(
        plan=subscription.plan,
        paid=payment.amount,
        period_start=subscription.period_start,
        period_end=subscription.period_end,
        now=now,
    )
    return amount, payment.currency
