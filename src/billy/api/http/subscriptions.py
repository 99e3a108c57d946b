"""Card subscriptions over HTTP: plans, subscribe, read, refund.

Subscribe and refund create something the consumer does not name, so they take an
`Idempotency-Key` header: the same key and request replay the first answer (status and body);
the same key with another request is 409 `idempotency_conflict`.
"""

from __future__ import annotations

from ninja import Field, Query, Router, Schema, Status

from billy.core import clock
from billy.core.money import format_amount
from billy.core.pagination import MAX_LIMIT
from billy.subscriptions import queries
from billy.subscriptions.models import Plan, Subscription, SubscriptionPayment, SubscriptionRefund
from billy.subscriptions.refunds import request_refund_with_key
from billy.subscriptions.subscribe import subscribe_with_key
from billy.workspaces.queries import get_workspace_for

from .errors import with_request_id
from .fields import Timestamp, currency, money
from .keys import idempotency_key
from .openapi import raises, requires_idempotency_key
from .rendering import json_data, json_response
from .strict import StrictSchema, one_of

router = Router(tags=["subscriptions"])
plans_router = Router(tags=["plans"])

PlanPeriod = one_of(Plan.Period)
RefundPolicy = one_of(Plan.RefundPolicy)
SubscriptionStatus = one_of(Subscription.Status)
PaymentStatus = one_of(SubscriptionPayment.Status)
RefundStatus = one_of(SubscriptionRefund.Status)


class PlanOut(Schema):
    code: str
    title: str
    price: str = money()
    currency: str = currency()
    period: PlanPeriod
    refund_policy: RefundPolicy = Field(description="FULL (within refund_days of the period's start) or PRORATED.")
    refund_days: int


class PlanList(Schema):
    plans: list[PlanOut]


class PaymentOut(Schema):
    payment_id: str
    status: PaymentStatus = Field(description="NEW (provider call not confirmed yet), PENDING, SUCCEEDED or FAILED.")
    amount: str = money()
    currency: str = currency()
    confirmation_url: str | None = Field(description="The provider's payment page: send the payer there.")
    provider_payment_id: str | None
    failure_reason: str
    created_at: Timestamp
    succeeded_at: Timestamp | None


class SubscriptionRefundOut(Schema):
    refund_id: str
    subscription_id: str
    status: RefundStatus = Field(description="PENDING, SUCCEEDED or FAILED (failure_reason says why).")
    amount: str = money()
    currency: str = currency()
    reason: str
    failure_reason: str
    created_at: Timestamp
    succeeded_at: Timestamp | None


class SubscriptionOut(Schema):
    id: str
    status: SubscriptionStatus = Field(description="PENDING, ACTIVE, CANCELED (payment failed), EXPIRED or REFUNDED.")
    plan: str
    user_id: str
    period_start: Timestamp | None = Field(description="Null until the subscription starts (paid).")
    period_end: Timestamp | None = Field(
        description="Exclusive: the period is [period_start, period_end). Null until the subscription starts."
    )
    activated_at: Timestamp | None
    ended_at: Timestamp | None
    created_at: Timestamp
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


@plans_router.get("/workspaces/{workspace}/plans", response={200: PlanList}, summary="Plans on sale")
def list_plans(request, workspace: str):
    ws = get_workspace_for(request.auth, workspace)
    return Status(200, PlanList(plans=[PlanOut(**plan_data(p)) for p in queries.list_plans(workspace=ws)]))


@router.post(
    "/workspaces/{workspace}/users/{user_id}/subscriptions",
    response={200: SubscriptionOut, 201: SubscriptionOut},
    summary="Subscribe a user to a plan (needs Idempotency-Key)",
)
@raises("plan_not_found", "payment_provider_not_configured", "invalid_state", "upstream_unavailable")
@requires_idempotency_key
def create_subscription(request, workspace: str, user_id: str, payload: SubscribeIn):
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
    response={200: SubscriptionPage},
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
    response={200: SubscriptionOut},
    summary="A subscription with its payments and refunds",
)
@raises("subscription_not_found")
def get_subscription(request, workspace: str, subscription_id: str):
    ws = get_workspace_for(request.auth, workspace)
    subscription = queries.get_subscription(workspace=ws, subscription_id=subscription_id)
    return Status(200, SubscriptionOut(**subscription_data(subscription)))


@router.post(
    "/workspaces/{workspace}/subscriptions/{subscription_id}/refund",
    response={200: SubscriptionRefundOut, 202: SubscriptionRefundOut},
    summary="Refund a subscription by its plan's policy (needs Idempotency-Key)",
)
@raises("subscription_not_found", "invalid_state", "refund_not_allowed")
@requires_idempotency_key
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
