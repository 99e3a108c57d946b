"""Card subscriptions over HTTP: plans, subscribe, read, refund, and the provider's webhook.

Subscribe and refund create something the consumer does not name, so they take an
`Idempotency-Key` header: the same key and request replay the first answer (status and body);
the same key with another request is 409 `idempotency_conflict`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress

from django.conf import settings
from ninja import Field, Query, Router, Schema, Status

from billy.core import clock
from billy.core.errors import Forbidden
from billy.core.money import format_amount
from billy.core.pagination import MAX_LIMIT
from billy.subscriptions import queries
from billy.subscriptions.models import Plan, Subscription, SubscriptionPayment, SubscriptionRefund
from billy.subscriptions.provider_notifications import receive_notification
from billy.subscriptions.refunds import request_refund_with_key
from billy.subscriptions.subscribe import subscribe_with_key
from billy.workspaces.queries import get_workspace_for

from .errors import ErrorOut, with_request_id
from .keys import idempotency_key
from .rate_limits import check_rate
from .rendering import json_data, json_response
from .strict import StrictSchema

router = Router(tags=["subscriptions"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 503: ErrorOut}


class PlanOut(Schema):
    code: str
    title: str
    price: str
    currency: str
    period: str = Field(description="MONTH or YEAR.")
    refund_policy: str = Field(description="FULL (within refund_days of the period's start) or PRORATED.")
    refund_days: int


class PlanList(Schema):
    plans: list[PlanOut]


class PaymentOut(Schema):
    payment_id: str
    status: str = Field(description="NEW (provider call not confirmed yet), PENDING, SUCCEEDED or FAILED.")
    amount: str
    currency: str
    confirmation_url: str | None = Field(description="The provider's payment page: send the payer there.")
    provider_payment_id: str | None
    failure_reason: str
    created_at: dt.datetime
    succeeded_at: dt.datetime | None


class SubscriptionRefundOut(Schema):
    refund_id: str
    subscription_id: str
    status: str = Field(description="PENDING, SUCCEEDED or FAILED (failure_reason says why).")
    amount: str
    currency: str
    reason: str
    failure_reason: str
    created_at: dt.datetime
    succeeded_at: dt.datetime | None


class SubscriptionOut(Schema):
    id: str
    status: str = Field(description="PENDING, ACTIVE, CANCELED (payment failed), EXPIRED or REFUNDED.")
    plan: str
    user_id: str
    period_start: dt.datetime | None = Field(description="Null until the subscription starts (paid).")
    period_end: dt.datetime | None = Field(
        description="Exclusive: the period is [period_start, period_end). Null until the subscription starts."
    )
    activated_at: dt.datetime | None
    ended_at: dt.datetime | None
    created_at: dt.datetime
    payment: PaymentOut | None = Field(description="The latest payment.")
    payments: list[PaymentOut]
    refunds: list[SubscriptionRefundOut]


class SubscriptionPage(Schema):
    subscriptions: list[SubscriptionOut]
    next_cursor: str | None


class SubscribeIn(StrictSchema):
    plan: str = Field(json_schema_extra={"minLength": 1, "maxLength": 64, "examples": ["monthly"]})
    return_url: str = Field(
        description="Where the provider's page sends the payer back to.",
        json_schema_extra={"maxLength": 2048, "examples": ["https://cinema.example/after-payment"]},
    )


class SubscriptionRefundIn(StrictSchema):
    reason: str = Field("", json_schema_extra={"maxLength": 256})


class WebhookOut(Schema):
    status: str = Field(
        description="received (stored, a job re-reads the object), duplicate (stored before) or ignored "
        "(about no payment or refund billy made: counted only)."
    )


def plan_data(plan: Plan) -> dict:
    return {
        "code": plan.code,
        "title": plan.title,
        "price": format_amount(plan.price),
        "currency": plan.currency,
        "period": plan.period,
        "refund_policy": plan.refund_policy,
        "refund_days": plan.refund_days,
    }


def payment_data(payment: SubscriptionPayment) -> dict:
    return {
        "payment_id": str(payment.pk),
        "status": payment.status,
        "amount": format_amount(payment.amount),
        "currency": payment.currency,
        "confirmation_url": payment.confirmation_url or None,
        "provider_payment_id": payment.provider_payment_id,
        "failure_reason": payment.failure_reason,
        "created_at": payment.created_at,
        "succeeded_at": payment.succeeded_at,
    }


def refund_data(refund: SubscriptionRefund) -> dict:
    return {
        "refund_id": str(refund.pk),
        "subscription_id": str(refund.subscription_id),
        "status": refund.status,
        "amount": format_amount(refund.amount),
        "currency": refund.currency,
        "reason": refund.reason,
        "failure_reason": refund.failure_reason,
        "created_at": refund.created_at,
        "succeeded_at": refund.succeeded_at,
    }


def subscription_data(subscription: Subscription) -> dict:
    """The subscription as the API shows it; payments and refunds newest first (prefetched)."""
    payments = sorted(subscription.payments.all(), key=lambda p: p.created_at, reverse=True)
    refunds = sorted(subscription.refunds.all(), key=lambda r: r.created_at, reverse=True)
    period = subscription.paid_period
    return {
        "id": str(subscription.pk),
        "status": subscription.status,
        "plan": subscription.plan.code,
        "user_id": subscription.user_id,
        "period_start": period[0] if period else None,
        "period_end": period[1] if period else None,
        "activated_at": subscription.activated_at,
        "ended_at": subscription.ended_at,
        "created_at": subscription.created_at,
        "payment": payment_data(payments[0]) if payments else None,
        "payments": [payment_data(p) for p in payments],
        "refunds": [refund_data(r) for r in refunds],
    }


def _json(schema: type[Schema], data: dict) -> dict:
    return json_data(schema(**data).model_dump())


def _subscribe_answer(subscription: Subscription, created: bool) -> tuple[int, dict]:
    return (201 if created else 200), _json(SubscriptionOut, subscription_data(subscription))


def _refund_answer(refund: SubscriptionRefund, created: bool) -> tuple[int, dict]:
    return (202 if created else 200), _json(SubscriptionRefundOut, refund_data(refund))


@router.get("/workspaces/{workspace}/plans", response={200: PlanList, **ERRORS}, summary="Plans on sale")
def list_plans(request, workspace: str):
    ws = get_workspace_for(request.auth, workspace)
    return Status(200, PlanList(plans=[PlanOut(**plan_data(p)) for p in queries.list_plans(workspace=ws)]))


@router.post(
    "/workspaces/{workspace}/users/{user_id}/subscriptions",
    response={200: SubscriptionOut, 201: SubscriptionOut, **ERRORS},
    summary="Subscribe a user to a plan (needs Idempotency-Key)",
)
def subscribe(request, workspace: str, user_id: str, payload: SubscribeIn):
    """201 with a PENDING subscription and its payment: send the payer to `payment.confirmation_url`.
    While a payment for the same user and plan is pending, 200 with that one. 503 when the provider
    cannot be reached: billy keeps trying, and a retry with the same key gives the outcome."""
    status, body = subscribe_with_key(
        workspace=get_workspace_for(request.auth, workspace),
        user_id=user_id,
        plan_code=payload.plan,
        return_url=payload.return_url,
        key=idempotency_key(request),
        answer=_subscribe_answer,
        now=clock.now(),
    )
    return json_response(with_request_id(body), status=status)


@router.get(
    "/workspaces/{workspace}/users/{user_id}/subscriptions",
    response={200: SubscriptionPage, **ERRORS},
    summary="A user's subscriptions, newest first",
)
def list_user_subscriptions(
    request,
    workspace: str,
    user_id: str,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
):
    ws = get_workspace_for(request.auth, workspace)
    items, next_cursor = queries.list_user_subscriptions(workspace=ws, user_id=user_id, limit=limit, cursor=cursor)
    return Status(
        200,
        SubscriptionPage(
            subscriptions=[SubscriptionOut(**subscription_data(s)) for s in items], next_cursor=next_cursor
        ),
    )


@router.get(
    "/workspaces/{workspace}/subscriptions/{subscription_id}",
    response={200: SubscriptionOut, **ERRORS},
    summary="A subscription with its payments and refunds",
)
def get_subscription(request, workspace: str, subscription_id: str):
    ws = get_workspace_for(request.auth, workspace)
    subscription = queries.get_subscription(workspace=ws, subscription_id=subscription_id)
    return Status(200, SubscriptionOut(**subscription_data(subscription)))


@router.post(
    "/workspaces/{workspace}/subscriptions/{subscription_id}/refund",
    response={200: SubscriptionRefundOut, 202: SubscriptionRefundOut, **ERRORS},
    summary="Refund a subscription by its plan's policy (needs Idempotency-Key)",
)
def refund_subscription(request, workspace: str, subscription_id: str, payload: SubscriptionRefundIn):
    """202 with a PENDING refund, its amount set by the plan's refund policy; the provider is asked
    in the background, and on success the role is revoked and the user told. A refund already in
    flight or done is answered 200 as it is: never twice."""
    status, body = request_refund_with_key(
        workspace=get_workspace_for(request.auth, workspace),
        subscription_id=subscription_id,
        reason=payload.reason,
        requested_by=f"api key {request.auth.name}",
        key=idempotency_key(request),
        answer=_refund_answer,
        now=clock.now(),
    )
    return json_response(with_request_id(body), status=status)


def _allowed_source(remote_addr: str) -> bool:
    networks = settings.YOOKASSA_WEBHOOK_ALLOWED_NETWORKS
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


@router.post(
    "/workspaces/{workspace}/providers/yookassa/webhook",
    auth=None,
    response={200: WebhookOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Notifications from the card payment provider",
)
def yookassa_webhook(request, workspace: str):
    """A notification about a payment or refund billy made is stored, deduplicated by (event, object
    id) and acknowledged with 200 `received` or `duplicate`; a job then re-reads the object from the
    provider and trusts only that. One about any other object is 200 `ignored`: counted, nothing
    else; past `BILLY_WEBHOOK_IGNORED_RATE` per source address, 429 `rate_limited` with Retry-After.
    404 for a workspace without a provider shop (or none at all)."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    if not _allowed_source(remote_addr):
        raise Forbidden(f"Notifications are not taken from {remote_addr}.")
    status = receive_notification(
        workspace_name=workspace,
        body=request.body,
        remote_addr=remote_addr,
        now=clock.now(),
        admit_ignored=lambda: check_rate(
            request, group="yookassa_webhook_ignored", rate=settings.BILLY_WEBHOOK_IGNORED_RATE
        ),
    )
    return Status(200, WebhookOut(status=status))
