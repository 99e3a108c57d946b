"""billy.v1.FamilyService: family accounts, limits, the family card and spendings, as over HTTP."""

from __future__ import annotations

from billy.core import clock
from billy.core.errors import ValidationFailed
from billy.core.money import format_amount, parse_amount_field
from billy.families import membership, spending
from billy.families import queries as family_queries
from billy.families.models import Family, Spending, SpendingRefund
from billy.families.passport import MemberView
from billy.v1 import families_pb2 as pb
from billy.v1 import families_pb2_grpc
from billy.workspaces.queries import get_workspace_for

from .clients import timestamp
from .enums import enum_number, enum_value
from .interceptor import current_principal


def _workspace(request):
    return get_workspace_for(current_principal(), request.workspace)


def _optional(message, field: str) -> str | None:
    return getattr(message, field) if message.HasField(field) else None


def _text(amount: int | None) -> str:
    return "" if amount is None else format_amount(amount)


def member_message(member: MemberView) -> pb.FamilyMember:
    amount = member.limit.amount if member.limit else None
    return pb.FamilyMember(
        user_id=member.user_id,
        phone=member.phone,
        role=enum_number(pb.MemberRole, member.role),
        limit=pb.MemberLimit(
            unlimited=amount is None,
            amount=_text(amount),
            frame=enum_number(pb.LimitFrame, member.limit.frame if member.limit else "MONTH"),
        ),
    )


def family_message(family: Family) -> pb.Family:
    members = family.shown_members
    return pb.Family(
        id=family.family_id,
        owner=family.owner_user_id,
        members=[member_message(m) for m in members],
        details=pb.FamilyDetails(name=family.name, color=family.color, passport_account=family.passport_account),
        payment=pb.FamilyPayment(
            payment_methods=[family.payment_method_id] if family.payment_method_id else [],
            main_payment_method_id=family.payment_method_id,
        ),
        revision=family.revision,
        has_specific_limit=any(m.limit and m.limit.amount is not None for m in members),
        is_active=family.is_active,
        accepted_at=timestamp(family.accepted_at),
    )


def refund_message(refund: SpendingRefund, spending_row: Spending) -> pb.FamilySpendingRefund:
    return pb.FamilySpendingRefund(
        refund_id=refund.refund_id,
        spending_id=spending_row.spending_id,
        amount=format_amount(refund.amount),
        currency=spending_row.currency,
        status=enum_number(pb.SpendingRefundStatus, refund.status),
        failure_reason=refund.failure_reason,
        created_at=timestamp(refund.created_at),
    )


def spending_message(row: Spending) -> pb.FamilySpending:
    return pb.FamilySpending(
        spending_id=row.spending_id,
        family_id=row.family.family_id,
        user_id=row.user_id,
        amount=format_amount(row.amount),
        currency=row.currency,
        status=enum_number(pb.SpendingStatus, row.status),
        cleared_amount=format_amount(row.cleared_amount),
        refunded_amount=format_amount(row.refunded_amount),
        card_payment_id=row.card_payment_id,
        cancel_reason=enum_number(pb.SpendingCancelReason, row.cancel_reason),
        failure_reason=row.failure_reason,
        hold_expires_at=timestamp(row.hold_expires_at),
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
        refunds=[refund_message(r, row) for r in sorted(row.refunds.all(), key=lambda r: r.created_at)],
    )


def _family(workspace, family_id: str) -> pb.Family:
    return family_message(family_queries.get_family(workspace=workspace, family_id=family_id))


def _spending(workspace, family_id: str, spending_id: str) -> pb.FamilySpending:
    return spending_message(
        family_queries.get_family_spending(workspace=workspace, family_id=family_id, spending_id=spending_id)
    )


def _limit_change(request) -> membership.LimitChange:
    amount = _optional(request, "amount")
    frame = enum_value(pb.LimitFrame, request.frame, field="frame")
    if request.unlimited and amount is None and frame is None:
        return membership.LimitChange(amount=None, revision=request.revision)
    if not request.unlimited and amount is not None and frame is not None:
        return membership.LimitChange(amount=parse_amount_field("amount", amount), revision=request.revision)
    raise ValidationFailed({"amount": ["Send amount with frame LIMIT_FRAME_MONTH, or unlimited: true."]})


class FamilyServicer(families_pb2_grpc.FamilyServiceServicer):
    def CreateFamily(self, request, context):  # noqa: N802
        ws = _workspace(request)
        family = membership.create_family(
            workspace=ws, owner=request.owner, name=request.name, color=request.color, now=clock.now()
        )
        return _family(ws, family.family_id)

    def GetFamily(self, request, context):  # noqa: N802
        return _family(_workspace(request), request.family_id)

    def DeleteFamily(self, request, context):  # noqa: N802
        ws = _workspace(request)
        membership.delete_family(
            workspace=ws, family_id=request.family_id, acting_user_id=request.acting_user_id, now=clock.now()
        )
        return family_message(family_queries.get_any_family(workspace=ws, family_id=request.family_id))

    def ListUserFamilies(self, request, context):  # noqa: N802
        found = family_queries.list_user_families(workspace=_workspace(request), user_id=request.user_id)
        return pb.ListUserFamiliesResponse(
            families=[
                pb.UserFamily(family=family_message(f), member_role=enum_number(pb.MemberRole, role))
                for f, role in found
            ]
        )

    def AddFamilyMember(self, request, context):  # noqa: N802
        ws = _workspace(request)
        membership.add_member(
            workspace=ws,
            family_id=request.family_id,
            acting_user_id=request.acting_user_id,
            user_id=request.user_id,
            phone=request.phone,
            limit=parse_amount_field("limit", _optional(request, "limit")),
            now=clock.now(),
        )
        return _family(ws, request.family_id)

    def RemoveFamilyMember(self, request, context):  # noqa: N802
        ws = _workspace(request)
        membership.remove_member(
            workspace=ws, family_id=request.family_id, acting_user_id=request.acting_user_id, user_id=request.user_id
        )
        return _family(ws, request.family_id)

    def LeaveFamily(self, request, context):  # noqa: N802
        ws = _workspace(request)
        membership.leave_family(workspace=ws, family_id=request.family_id, user_id=request.user_id)
        return _family(ws, request.family_id)

    def PutFamilyMemberLimit(self, request, context):  # noqa: N802
        ws = _workspace(request)
        membership.set_member_limit(
            workspace=ws,
            family_id=request.family_id,
            acting_user_id=request.acting_user_id,
            user_id=request.user_id,
            change=_limit_change(request),
            now=clock.now(),
        )
        return _family(ws, request.family_id)

    def PutFamilyPaymentMethod(self, request, context):  # noqa: N802
        ws = _workspace(request)
        membership.set_payment_method(
            workspace=ws,
            family_id=request.family_id,
            acting_user_id=request.acting_user_id,
            payment_method_id=request.payment_method_id,
            now=clock.now(),
        )
        return _family(ws, request.family_id)

    def CheckFamilyAvailable(self, request, context):  # noqa: N802
        found = family_queries.check_available(
            workspace=_workspace(request),
            family_id=request.family_id,
            user_id=request.user_id,
            amount=parse_amount_field("amount", request.amount),
            now=clock.now(),
        )
        return pb.CheckFamilyAvailableResponse(
            available=found.available,
            limit=_text(found.usage.cap),
            usage=format_amount(found.usage.used),
            remaining=_text(found.usage.remaining),
            frame=enum_number(pb.LimitFrame, found.frame),
            reset_at=timestamp(found.reset_at),
        )

    def CreateFamilySpending(self, request, context):  # noqa: N802
        ws = _workspace(request)
        row, created = spending.spend(
            workspace=ws,
            family_id=request.family_id,
            request=spending.SpendRequest(
                spending_id=request.spending_id,
                user_id=request.user_id,
                amount=parse_amount_field("amount", request.amount),
            ),
            now=clock.now(),
        )
        return pb.CreateFamilySpendingResponse(
            spending=_spending(ws, request.family_id, row.spending_id), created=created
        )

    def GetFamilySpending(self, request, context):  # noqa: N802
        return _spending(_workspace(request), request.family_id, request.spending_id)

    def ClearFamilySpending(self, request, context):  # noqa: N802
        ws = _workspace(request)
        family_queries.get_family_spending(workspace=ws, family_id=request.family_id, spending_id=request.spending_id)
        spending.clear_spending(
            workspace=ws,
            spending_id=request.spending_id,
            amount=parse_amount_field("amount", _optional(request, "amount")),
            now=clock.now(),
        )
        return _spending(ws, request.family_id, request.spending_id)

    def CancelFamilySpending(self, request, context):  # noqa: N802
        ws = _workspace(request)
        family_queries.get_family_spending(workspace=ws, family_id=request.family_id, spending_id=request.spending_id)
        spending.cancel_spending(workspace=ws, spending_id=request.spending_id, now=clock.now())
        return _spending(ws, request.family_id, request.spending_id)

    def RefundFamilySpending(self, request, context):  # noqa: N802
        ws = _workspace(request)
        row = family_queries.get_family_spending(
            workspace=ws, family_id=request.family_id, spending_id=request.spending_id
        )
        refund, created = spending.refund_spending(
            workspace=ws,
            spending_id=request.spending_id,
            request=spending.RefundRequest(
                refund_id=request.refund_id, amount=parse_amount_field("amount", _optional(request, "amount"))
            ),
            now=clock.now(),
        )
        return pb.RefundFamilySpendingResponse(refund=refund_message(refund, row), created=created)

    def ListUserPaymentMethods(self, request, context):  # noqa: N802
        ws = _workspace(request)
        found = family_queries.app_opened(workspace=ws, user_id=request.user_id, now=clock.now())
        own = [pb.PaymentMethod(id=c.id, number=c.number) for c in found.own_cards]
        family_cards = [
            pb.PaymentMethod(
                id=f.card_id,
                number=f.number or "",
                payer_info=pb.PayerInfo(
                    uid=f.owner,
                    family_info=pb.FamilyInfo(
                        family_id=f.family.family_id,
                        usage=format_amount(f.usage.used),
                        limit=_text(f.usage.cap),
                        frame=enum_number(pb.LimitFrame, f.frame),
                    ),
                ),
            )
            for f in found.family_cards
        ]
        accounts = [
            pb.FamilyAccount(
                family_id=f.family_id,
                name=f.name,
                member_role=enum_number(pb.MemberRole, role),
                passport_account=f.passport_account,
            )
            for f, role in found.families
        ]
        return pb.ListUserPaymentMethodsResponse(payment_methods=own + family_cards, family_accounts=accounts)
