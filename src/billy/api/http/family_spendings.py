"""The family card over HTTP: check_available, spendings (hold, clear, cancel, refunds), and a
user's payment methods with the family card and the member's usage.

`spending_id` and `refund_id` are the consumer's: the same id with the same body answers 200 with
the resource as it is now, with another body 409 `idempotency_conflict`.
"""

from __future__ import annotations

from ninja import Field, Router, Schema, Status

from billy.core import clock
from billy.core.money import format_amount, parse_amount_field
from billy.core.validation import ID_RULE
from billy.families import queries as family_queries
from billy.families import spending as family_spending
from billy.families.models import Spending, SpendingRefund
from billy.ledger.limits import Usage
from billy.ledger.models import SpendingLimit
from billy.workspaces.queries import get_workspace_for

from .families import FAMILY, USER
from .fields import ID, MONEY_IN, Timestamp, currency, money
from .keys import keyed_answer
from .openapi import raises
from .strict import StrictSchema, one_of

SPENDING = FAMILY + "/spendings/{spending_id}"

router = Router(tags=["family spendings"])
methods_router = Router(tags=["payment methods"])

SpendingStatus = one_of(Spending.Status)
RefundStatus = one_of(SpendingRefund.Status)
CancelReason = one_of(Spending.CancelReason)
Frame = one_of(SpendingLimit.Frame)


class AvailableIn(StrictSchema):
    user_id: str = Field(json_schema_extra=USER)
    amount: str = Field(json_schema_extra=MONEY_IN)


class AvailableOut(Schema):
    available: bool
    limit: str | None = money("The member's limit this frame; null when unlimited.")
    usage: str = money("Holds + cleared - refunded in this frame.")
    remaining: str | None = money("What is left; null when unlimited.")
    frame: Frame
    reset_at: Timestamp = Field(description="When the next frame (month) starts.")


class SpendIn(StrictSchema):
    spending_id: str = Field(description=ID_RULE, json_schema_extra=ID)
    user_id: str = Field(json_schema_extra=USER)
    amount: str = Field(json_schema_extra=MONEY_IN)


class ClearSpendingIn(StrictSchema):
    amount: str | None = Field(
        None,
        description="At most the held amount (default: all of it); the rest is released.",
        json_schema_extra=MONEY_IN,
    )


class SpendingRefundIn(StrictSchema):
    refund_id: str = Field(description=ID_RULE, json_schema_extra=ID)
    amount: str | None = Field(None, description="Default: all that is left.", json_schema_extra=MONEY_IN)


class SpendingRefundOut(Schema):
    refund_id: str
    spending_id: str
    amount: str = money()
    currency: str = currency()
    status: RefundStatus = Field(description="PENDING (the card system has not confirmed it), SUCCEEDED or FAILED.")
    failure_reason: str
    created_at: Timestamp


class SpendingOut(Schema):
    spending_id: str
    family_id: str
    user_id: str
    amount: str = money("What was held.")
    currency: str = currency()
    status: SpendingStatus = Field(description="PENDING, HELD, CLEARED, CANCELLED or FAILED.")
    cleared_amount: str = money()
    refunded_amount: str = money()
    card_payment_id: str | None
    cancel_reason: CancelReason | None
    failure_reason: str
    hold_expires_at: Timestamp
    created_at: Timestamp
    updated_at: Timestamp
    refunds: list[SpendingRefundOut]


class FamilyInfoOut(Schema):
    family_id: str
    usage: str = money()
    limit: str | None = money("Null when unlimited.")
    frame: Frame


class PayerInfoOut(Schema):
    uid: str = Field(description="Whose card it is (the family's owner).")
    family_info: FamilyInfoOut


class PaymentMethodOut(Schema):
    id: str
    number: str | None
    payer_info: PayerInfoOut | None = Field(description="For the family card: whose it is and this member's usage.")


class FamilyAccountDetailsOut(Schema):
    name: str
    color: str
    passport_account: bool = Field(description="Whether the family has moved to the identity provider.")


class FamilyAccountOut(Schema):
    family_id: str
    name: str
    member_role: str
    details: FamilyAccountDetailsOut


class PaymentMethodList(Schema):
    payment_methods: list[PaymentMethodOut]
    family_accounts: list[FamilyAccountOut]


def _optional(amount: int | None) -> str | None:
    return None if amount is None else format_amount(amount)


def refund_data(refund: SpendingRefund, spending: Spending) -> dict:
    return {
        "refund_id": refund.refund_id,
        "spending_id": spending.spending_id,
        "amount": format_amount(refund.amount),
        "currency": spending.currency,
        "status": refund.status,
        "failure_reason": refund.failure_reason,
        "created_at": refund.created_at,
    }


def spending_data(spending: Spending) -> dict:
    return {
        "spending_id": spending.spending_id,
        "family_id": spending.family.family_id,
        "user_id": spending.user_id,
        "amount": format_amount(spending.amount),
        "currency": spending.currency,
        "status": spending.status,
        "cleared_amount": format_amount(spending.cleared_amount),
        "refunded_amount": format_amount(spending.refunded_amount),
        "card_payment_id": spending.card_payment_id or None,
        "cancel_reason": spending.cancel_reason or None,
        "failure_reason": spending.failure_reason,
        "hold_expires_at": spending.hold_expires_at,
        "created_at": spending.created_at,
        "updated_at": spending.updated_at,
        "refunds": [refund_data(r, spending) for r in sorted(spending.refunds.all(), key=lambda r: r.created_at)],
    }


def _spending_out(ws, family_id: str, spending_id: str) -> SpendingOut:
    spending = family_queries.get_family_spending(workspace=ws, family_id=family_id, spending_id=spending_id)
    return SpendingOut(**spending_data(spending))


def _usage_data(usage: Usage) -> dict:
    return {"limit": _optional(usage.cap), "usage": format_amount(usage.used), "remaining": _optional(usage.remaining)}


@router.post(FAMILY + "/check-available", response={200: AvailableOut}, summary="Can a member spend this amount now")
@raises("family_not_found", "member_not_found")
def check_family_available(request, workspace: str, family_id: str, payload: AvailableIn):
    """`available` is true when the family has a card and the amount fits in what is left of the
    member's limit this month (always, for an unlimited member)."""
    ws = get_workspace_for(request.auth, workspace)

    def run():
        found = family_queries.check_available(
            workspace=ws,
            family_id=family_id,
            user_id=payload.user_id,
            amount=parse_amount_field("amount", payload.amount),
            now=clock.now(),
        )
        return 200, AvailableOut(
            available=found.available, **_usage_data(found.usage), frame=found.frame, reset_at=found.reset_at
        )

    fingerprint = {"family_id": family_id, **payload.model_dump()}
    return keyed_answer(request, workspace=ws, operation="check_family_available", fingerprint=fingerprint, run=run)


@router.post(
    FAMILY + "/spendings", response={200: SpendingOut, 201: SpendingOut}, summary="Spend on the family card (a hold)"
)
@raises(
    "family_not_found",
    "member_not_found",
    "invalid_state",
    "limit_exceeded",
    "card_declined",
    "upstream_unavailable",
)
def create_family_spending(request, workspace: str, family_id: str, payload: SpendIn):
    """201 with the spending, `HELD` on the family card and counted against the member's limit.
    422 `limit_exceeded` when it does not fit (nothing is held), `card_declined` when the card
    system refuses; 503 when it cannot be reached or did not answer (retry with the same
    `spending_id`: a hold that happened is found, never made twice)."""
    ws = get_workspace_for(request.auth, workspace)

    def run():
        spending, created = family_spending.spend(
            workspace=ws,
            family_id=family_id,
            request=family_spending.SpendRequest(
                spending_id=payload.spending_id,
                user_id=payload.user_id,
                amount=parse_amount_field("amount", payload.amount),
            ),
            now=clock.now(),
        )
        return (201 if created else 200), _spending_out(ws, family_id, spending.spending_id)

    fingerprint = {"family_id": family_id, **payload.model_dump()}
    return keyed_answer(request, workspace=ws, operation="create_family_spending", fingerprint=fingerprint, run=run)


@router.get(SPENDING, response={200: SpendingOut}, summary="A spending on the family card")
@raises("spending_not_found")
def get_family_spending(request, workspace: str, family_id: str, spending_id: str):
    ws = get_workspace_for(request.auth, workspace)
    return Status(200, _spending_out(ws, family_id, spending_id))


@router.post(SPENDING + "/clear", response={200: SpendingOut}, summary="Clear a spending (take the money)")
@raises("spending_not_found", "invalid_state", "upstream_unavailable")
def clear_family_spending(request, workspace: str, family_id: str, spending_id: str, payload: ClearSpendingIn):
    """200 `CLEARED` for `amount` (at most what was held; the rest no longer counts)."""
    ws = get_workspace_for(request.auth, workspace)

    def run():
        family_queries.get_family_spending(workspace=ws, family_id=family_id, spending_id=spending_id)
        family_spending.clear_spending(
            workspace=ws, spending_id=spending_id, amount=parse_amount_field("amount", payload.amount), now=clock.now()
        )
        return 200, _spending_out(ws, family_id, spending_id)

    fingerprint = {"family_id": family_id, "spending_id": spending_id, **payload.model_dump()}
    return keyed_answer(request, workspace=ws, operation="clear_family_spending", fingerprint=fingerprint, run=run)


@router.post(SPENDING + "/cancel", response={200: SpendingOut}, summary="Cancel a spending (release the hold)")
@raises("spending_not_found", "invalid_state", "upstream_unavailable")
def cancel_family_spending(request, workspace: str, family_id: str, spending_id: str):
    ws = get_workspace_for(request.auth, workspace)

    def run():
        family_queries.get_family_spending(workspace=ws, family_id=family_id, spending_id=spending_id)
        family_spending.cancel_spending(workspace=ws, spending_id=spending_id, now=clock.now())
        return 200, _spending_out(ws, family_id, spending_id)

    fingerprint = {"family_id": family_id, "spending_id": spending_id}
    return keyed_answer(request, workspace=ws, operation="cancel_family_spending", fingerprint=fingerprint, run=run)


@router.post(
    SPENDING + "/refunds",
    response={200: SpendingRefundOut, 201: SpendingRefundOut},
    summary="Refund a cleared spending to the card",
)
@raises("spending_not_found", "invalid_state", "refund_exceeds_charge", "upstream_unavailable")
def create_family_spending_refund(request, workspace: str, family_id: str, spending_id: str, payload: SpendingRefundIn):
    """201 with the refund, `SUCCEEDED` once the card system made it; the member's headroom in the
    spending's month comes back with it."""
    ws = get_workspace_for(request.auth, workspace)

    def run():
        spending = family_queries.get_family_spending(workspace=ws, family_id=family_id, spending_id=spending_id)
        refund, created = family_spending.refund_spending(
            workspace=ws,
            spending_id=spending_id,
            request=family_spending.RefundRequest(
                refund_id=payload.refund_id, amount=parse_amount_field("amount", payload.amount)
            ),
            now=clock.now(),
        )
        return (201 if created else 200), SpendingRefundOut(**refund_data(refund, spending))

    fingerprint = {"family_id": family_id, "spending_id": spending_id, **payload.model_dump()}
    return keyed_answer(
        request, workspace=ws, operation="create_family_spending_refund", fingerprint=fingerprint, run=run
    )


@methods_router.get(
    "/workspaces/{workspace}/users/{user_id}/payment-methods",
    response={200: PaymentMethodList},
    summary="A user's cards, family accounts and family card",
)
@raises("upstream_unavailable")
def list_user_payment_methods(request, workspace: str, user_id: str):
    """The user's own cards (a card another user pays for is left out), then the card of each
    family the user belongs to with `payer_info.family_info`: this member's usage and limit (for a
    migrated family, as the card payment system keeps them). The app calls this when it opens: an
    owner in the migration experiment with a portal account has their family's move to the
    identity provider started in the background."""
    ws = get_workspace_for(request.auth, workspace)
    found = family_queries.app_opened(workspace=ws, user_id=user_id, now=clock.now())
    own = [PaymentMethodOut(id=c.id, number=c.number, payer_info=None) for c in found.own_cards]
    family_cards = [
        PaymentMethodOut(
            id=f.card_id,
            number=f.number,
            payer_info=PayerInfoOut(
                uid=f.owner,
                family_info=FamilyInfoOut(
                    family_id=f.family.family_id,
                    usage=format_amount(f.usage.used),
                    limit=_optional(f.usage.cap),
                    frame=f.frame,
                ),
            ),
        )
        for f in found.family_cards
    ]
    accounts = [
        FamilyAccountOut(
            family_id=f.family_id,
            name=f.name,
            member_role=role,
            details=FamilyAccountDetailsOut(name=f.name, color=f.color, passport_account=f.passport_account),
        )
        for f, role in found.families
    ]
    return Status(200, PaymentMethodList(payment_methods=own + family_cards, family_accounts=accounts))
