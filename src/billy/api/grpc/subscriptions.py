"""billy.v1.PlanService and billy.v1.SubscriptionService: the HTTP subscription operations over gRPC.

Each method parses the request, calls the same use case as HTTP and maps its result. Calls that
create something take the `idempotency-key` metadata entry; a key's first answer is kept as the id
of what the call made, and a repeat answers that resource as it is now.
"""

from __future__ import annotations

from billy.core import clock
from billy.core.money import format_amount
from billy.idempotency.operations import answer_with_key
from billy.subscriptions import queries
from billy.subscriptions.models import Plan, Subscription, SubscriptionPayment, SubscriptionRefund
from billy.subscriptions.refunds import request_refund_with_key
from billy.subscriptions.renewal_switch import cancel_renewal, resume_renewal
from billy.subscriptions.subscribe import subscribe_with_key
from billy.v1 import subscriptions_pb2, subscriptions_pb2_grpc
from billy.workspaces.queries import get_workspace_for

from .clients import timestamp
from .enums import enum_number
from .interceptor import current_principal

IDEMPOTENCY_KEY = "idempotency-key"


def idempotency_key(context) -> str | None:
    """The call's `idempotency-key` metadata value: None when absent, "" (refused as malformed) when
    sent more than once, since which one counts would be a guess."""
    values = [value for key, value in context.invocation_metadata() if key == IDEMPOTENCY_KEY]
    if not values:
        return None
    return values[0] if len(values) == 1 and isinstance(values[0], str) else ""


def plan_message(plan: Plan) -> subscriptions_pb2.Plan:
    return subscriptions_pb2.Plan(
        code=plan.code,
        title=plan.title,
        price=format_amount(plan.price),
        currency=plan.currency,
        period=enum_number(subscriptions_pb2.PlanPeriod, plan.period),
        refund_policy=enum_number(subscriptions_pb2.RefundPolicy, plan.refund_policy),
        refund_days=plan.refund_days,
    )


def payment_message(payment: SubscriptionPayment) -> subscriptions_pb2.SubscriptionPayment:
    return subscriptions_pb2.SubscriptionPayment(
        payment_id=str(payment.pk),
        period=payment.period,
        status=enum_number(subscriptions_pb2.SubscriptionPaymentStatus, payment.status),
        amount=format_amount(payment.amount),
        currency=payment.currency,
        confirmation_url=payment.confirmation_url,
        provider_payment_id=payment.provider_payment_id or "",
        failure_reason=payment.failure_reason,
        created_at=timestamp(payment.created_at),
        succeeded_at=timestamp(payment.succeeded_at),
    )


def refund_message(refund: SubscriptionRefund) -> subscriptions_pb2.SubscriptionRefund:
    return subscriptions_pb2.SubscriptionRefund(
        refund_id=str(refund.pk),
        subscription_id=str(refund.subscription_id),
        status=enum_number(subscriptions_pb2.SubscriptionRefundStatus, refund.status),
        amount=format_amount(refund.amount),
        currency=refund.currency,
        reason=refund.reason,
        failure_reason=refund.failure_reason,
        created_at=timestamp(refund.created_at),
        succeeded_at=timestamp(refund.succeeded_at),
    )


def subscription_message(subscription: Subscription) -> subscriptions_pb2.Subscription:
    payments = sorted(subscription.payments.all(), key=lambda p: (p.period, p.attempt), reverse=True)
    refunds = sorted(subscription.refunds.all(), key=lambda r: r.created_at, reverse=True)
    period = subscription.paid_period
    return subscriptions_pb2.Subscription(
        id=str(subscription.pk),
        status=enum_number(subscriptions_pb2.SubscriptionStatus, subscription.status),
        plan=subscription.plan.code,
        user_id=subscription.user_id,
        period_start=timestamp(period[0] if period else None),
        period_end=timestamp(period[1] if period else None),
        activated_at=timestamp(subscription.activated_at),
        ended_at=timestamp(subscription.ended_at),
        created_at=timestamp(subscription.created_at),
        renews=subscription.renews,
        next_renewal_at=timestamp(subscription.next_renewal_at),
        card_last4=subscription.card_last4,
        card_saved=bool(subscription.payment_method_id),
        period_number=subscription.period_number,
        renewal_failures=subscription.renewal_failures,
        payment=payment_message(payments[0]) if payments else None,
        payments=[payment_message(p) for p in payments],
        refunds=[refund_message(r) for r in refunds],
    )


def _made(resource_id: str, created: bool) -> tuple[int, dict]:
    """What a key keeps of a gRPC call's answer: the resource it made (read again on a repeat)."""
    return (201 if created else 200), {"id": resource_id, "created": created}


class PlanServicer(subscriptions_pb2_grpc.PlanServiceServicer):
    def ListPlans(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        return subscriptions_pb2.ListPlansResponse(
            plans=[plan_message(p) for p in queries.list_plans(workspace=workspace)]
        )


class SubscriptionServicer(subscriptions_pb2_grpc.SubscriptionServiceServicer):
    def ListPlans(self, request, context):  # noqa: N802
        return PlanServicer().ListPlans(request, context)

    def Subscribe(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        _, made = subscribe_with_key(
            workspace=workspace,
            user_id=request.user_id,
            plan_code=request.plan,
            return_url=request.return_url,
            key=idempotency_key(context),
            answer=lambda subscription, created: _made(str(subscription.pk), created),
            now=clock.now(),
            operation="grpc_subscribe",
        )
        subscription = queries.get_subscription(workspace=workspace, subscription_id=made["id"])
        return subscriptions_pb2.SubscribeResponse(
            subscription=subscription_message(subscription), created=made["created"]
        )

    def GetSubscription(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        return subscription_message(
            queries.get_subscription(workspace=workspace, subscription_id=request.subscription_id)
        )

    def ListUserSubscriptions(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        items, next_cursor = queries.list_user_subscriptions(
            workspace=workspace, user_id=request.user_id, limit=request.limit or 50, cursor=request.cursor or None
        )
        return subscriptions_pb2.ListUserSubscriptionsResponse(
            subscriptions=[subscription_message(s) for s in items], next_cursor=next_cursor or ""
        )

    def RefundSubscription(self, request, context):  # noqa: N802
        principal = current_principal()
        workspace = get_workspace_for(principal, request.workspace)
        _, made = request_refund_with_key(
            workspace=workspace,
            subscription_id=request.subscription_id,
            reason=request.reason,
            requested_by=f"api key {principal.name}",
            key=idempotency_key(context),
            answer=lambda refund, created: _made(str(refund.pk), created),
            now=clock.now(),
            operation="grpc_refund_subscription",
        )
        refund = queries.get_subscription_refund(workspace=workspace, refund_id=made["id"])
        return subscriptions_pb2.RefundSubscriptionResponse(refund=refund_message(refund), created=made["created"])

    def CancelSubscription(self, request, context):  # noqa: N802
        return self._switch(request, context, cancel_renewal, "grpc_cancel_subscription")

    def ResumeSubscription(self, request, context):  # noqa: N802
        return self._switch(request, context, resume_renewal, "grpc_resume_subscription")

    def _switch(self, request, context, operation, name: str):
        workspace = get_workspace_for(current_principal(), request.workspace)

        def run() -> tuple[int, dict]:
            subscription = operation(workspace=workspace, subscription_id=request.subscription_id, now=clock.now())
            return _made(str(subscription.pk), False)

        _, made = answer_with_key(
            workspace_id=workspace.pk,
            operation=name,
            key=idempotency_key(context),
            request={"subscription_id": request.subscription_id},
            run=run,
            now=clock.now(),
        )
        return subscription_message(queries.get_subscription(workspace=workspace, subscription_id=made["id"]))
