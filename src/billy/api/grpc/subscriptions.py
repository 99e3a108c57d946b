"""billy.v1.PlanService: the plans a workspace sells."""

from __future__ import annotations

from billy.core.money import format_amount
from billy.subscriptions import queries
from billy.subscriptions.models import Plan
from billy.v1 import subscriptions_pb2, subscriptions_pb2_grpc
from billy.workspaces.queries import get_workspace_for

from .enums import enum_number
from .interceptor import current_principal


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


class PlanServicer(subscriptions_pb2_grpc.PlanServiceServicer):
    def ListPlans(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        return subscriptions_pb2.ListPlansResponse(
            plans=[plan_message(p) for p in queries.list_plans(workspace=workspace)]
        )
