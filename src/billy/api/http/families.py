"""Family accounts over HTTP: create, read, delete, members, leave, limits, the family card.

Owner-only calls name the acting user (`acting_user_id` in the body, or in the query for DELETE);
anyone else is 403 `not_owner`. Every mutating call honours `Idempotency-Key` (keys.keyed_answer).
"""

from __future__ import annotations

from ninja import Field, Query, Router, Schema, Status

from billy.core import clock
from billy.core.errors import ValidationFailed
from billy.core.money import format_amount, parse_amount_field
from billy.families import membership
from billy.families import queries as family_queries
from billy.families.models import Family, Member
from billy.families.passport import MemberView
from billy.ledger.models import SpendingLimit
from billy.workspaces.queries import get_workspace_for

from .fields import MONEY_IN, NAME, Timestamp, money
from .keys import keyed_answer
from .openapi import raises
from .strict import StrictSchema, one_of

FAMILIES = "/workspaces/{workspace}/families"
FAMILY = FAMILIES + "/{family_id}"

router = Router(tags=["families"])

Role = one_of(Member.Role)
Frame = one_of(SpendingLimit.Frame)
USER = {**NAME, "examples": ["user-1"]}


class LimitOut(Schema):
    unlimited: bool
    amount: str | None = money("The limit per frame; null when unlimited.")
    frame: Frame


class MemberOut(Schema):
    user_id: str
    phone: str
    role: Role = Field(description="OWNER or MEMBER.")
    limit: LimitOut
    read_only: bool = Field(
        False, description="A member of the migrated family at the identity provider that billy does not know."
    )


class DetailsOut(Schema):
    name: str
    color: str
    passport_account: bool = Field(
        description="Whether the family lives at the identity provider: its members are the provider's, "
        "its limits and usage the card payment system's."
    )


class FamilyPaymentOut(Schema):
    payment_methods: list[str] = Field(description="The family card's id, when the owner has set one.")
    main_payment_method_id: str | None


class FamilyOut(Schema):
    id: str
    owner: str
    members: list[MemberOut]
    details: DetailsOut
    payment: FamilyPaymentOut
    revision: int = Field(description="Moves on with every change; a limit change names it.")
    has_specific_limit: bool = Field(description="Whether any member has a limit.")
    is_active: bool
    accepted_at: Timestamp


class UserFamilyOut(FamilyOut):
    member_role: Role


class UserFamilyList(Schema):
    families: list[UserFamilyOut]


class FamilyIn(StrictSchema):
    owner: str = Field(json_schema_extra=USER)
    name: str = Field(json_schema_extra=NAME)
    color: str = Field("", json_schema_extra={"maxLength": membership.MAX_COLOR_LENGTH, "examples": ["#FFAA00"]})


class MemberIn(StrictSchema):
    acting_user_id: str = Field(description="The owner.", json_schema_extra=USER)
    user_id: str = Field(json_schema_extra=USER)
    phone: str = Field(json_schema_extra={"minLength": 1, "maxLength": membership.MAX_PHONE_LENGTH})
    limit: str | None = Field(None, description="Per month; left out: unlimited.", json_schema_extra=MONEY_IN)


class LeaveIn(StrictSchema):
    user_id: str = Field(json_schema_extra=USER)


class LimitIn(StrictSchema):
    acting_user_id: str = Field(description="The owner.", json_schema_extra=USER)
    amount: str | None = Field(
        None, description="The limit per frame; or send unlimited: true.", json_schema_extra=MONEY_IN
    )
    frame: Frame | None = Field(None, description="MONTH (with amount).")
    unlimited: bool | None = Field(None, description="true: no limit (without amount).")
    revision: int = Field(description="The family account's current revision.", ge=1)


class PaymentIn(StrictSchema):
    acting_user_id: str = Field(description="The owner.", json_schema_extra=USER)
    payment_method_id: str = Field(
        description="One of the owner's cards at the card payment system.", json_schema_extra=NAME
    )


def member_data(member: MemberView) -> dict:
    amount = member.limit.amount if member.limit else None
    return {
        "user_id": member.user_id,
        "phone": member.phone,
        "role": member.role,
        "limit": {
            "unlimited": amount is None,
            "amount": None if amount is None else format_amount(amount),
            "frame": member.limit.frame if member.limit else SpendingLimit.Frame.MONTH,
        },
        "read_only": member.read_only,
    }


def family_data(family: Family) -> dict:
    members = family.shown_members
    return {
        "id": family.family_id,
        "owner": family.owner_user_id,
        "members": [member_data(m) for m in members],
        "details": {"name": family.name, "color": family.color, "passport_account": family.passport_account},
        "payment": {
            "payment_methods": [family.payment_method_id] if family.payment_method_id else [],
            "main_payment_method_id": family.payment_method_id or None,
        },
        "revision": family.revision,
        "has_specific_limit": any(m.limit and m.limit.amount is not None for m in members),
        "is_active": family.is_active,
        "accepted_at": family.accepted_at,
    }


def _family_out(workspace, family_id: str) -> FamilyOut:
    return FamilyOut(**family_data(family_queries.get_family(workspace=workspace, family_id=family_id)))


@router.post(FAMILIES, response={201: FamilyOut}, summary="Create a family account")
@raises("already_in_family", "identity_account_required", "identity_unavailable")
def create_family(request, workspace: str, payload: FamilyIn):
    """201 with the new family; its owner is its first member (unlimited). An owner already in a
    family is 409 `already_in_family`. Send an `Idempotency-Key` to make a retry safe."""
    ws = get_workspace_for(request.auth, workspace)

    def run():
        family = membership.create_family(
            workspace=ws, owner=payload.owner, name=payload.name, color=payload.color, now=clock.now()
        )
        return 201, _family_out(ws, family.family_id)

    return keyed_answer(request, workspace=ws, operation="create_family", fingerprint=payload.model_dump(), run=run)


@router.get(FAMILY, response={200: FamilyOut}, summary="A family account")
@raises("family_not_found", "identity_unavailable")
def get_family(request, workspace: str, family_id: str):
    ws = get_workspace_for(request.auth, workspace)
    return Status(200, _family_out(ws, family_id))


@router.delete(FAMILY, response={200: FamilyOut}, summary="Delete a family account (owner only)")
@raises("family_not_found", "not_owner", "identity_unavailable")
def delete_family(request, workspace: str, family_id: str, acting_user_id: str = Query(...)):
    """200 with the family, no longer active and without members: they are free to join another."""
    ws = get_workspace_for(request.auth, workspace)

    def run():
        membership.delete_family(workspace=ws, family_id=family_id, acting_user_id=acting_user_id, now=clock.now())
        return 200, FamilyOut(**family_data(family_queries.get_any_family(workspace=ws, family_id=family_id)))

    fingerprint = {"family_id": family_id, "acting_user_id": acting_user_id}
    return keyed_answer(request, workspace=ws, operation="delete_family", fingerprint=fingerprint, run=run)


@router.get(
    "/workspaces/{workspace}/users/{user_id}/families",
    response={200: UserFamilyList},
    summary="The family accounts a user belongs to",
)
@raises("identity_unavailable")
def list_user_families(request, workspace: str, user_id: str):
    ws = get_workspace_for(request.auth, workspace)
    found = family_queries.list_user_families(workspace=ws, user_id=user_id)
    return Status(
        200, UserFamilyList(families=[UserFamilyOut(**family_data(f), member_role=role) for f, role in found])
    )


@router.post(FAMILY + "/members", response={201: FamilyOut}, summary="Add a member (owner only)")
@raises(
    "family_not_found",
    "not_owner",
    "already_in_family",
    "family_full",
    "identity_account_required",
    "identity_unavailable",
)
def add_family_member(request, workspace: str, family_id: str, payload: MemberIn):
    """201 with the family. A member without `limit` is unlimited."""
    ws = get_workspace_for(request.auth, workspace)

    def run(repeat: bool = False):
        membership.add_member(
            workspace=ws,
            family_id=family_id,
            acting_user_id=payload.acting_user_id,
            user_id=payload.user_id,
            phone=payload.phone,
            limit=parse_amount_field("limit", payload.limit),
            now=clock.now(),
            repeat=repeat,
        )
        return 201, _family_out(ws, family_id)

    fingerprint = {"family_id": family_id, **payload.model_dump()}
    return keyed_answer(
        request,
        workspace=ws,
        operation="add_family_member",
        fingerprint=fingerprint,
        run=run,
        again=lambda: run(repeat=True),
    )


@router.delete(FAMILY + "/members/{user_id}", response={200: FamilyOut}, summary="Remove a member (owner only)")
@raises("family_not_found", "not_owner", "member_not_found", "identity_unavailable")
def remove_family_member(request, workspace: str, family_id: str, user_id: str, acting_user_id: str = Query(...)):
    ws = get_workspace_for(request.auth, workspace)

    def run(repeat: bool = False):
        membership.remove_member(
            workspace=ws, family_id=family_id, acting_user_id=acting_user_id, user_id=user_id, repeat=repeat
        )
        return 200, _family_out(ws, family_id)

    fingerprint = {"family_id": family_id, "user_id": user_id, "acting_user_id": acting_user_id}
    return keyed_answer(
        request,
        workspace=ws,
        operation="remove_family_member",
        fingerprint=fingerprint,
        run=run,
        again=lambda: run(repeat=True),
    )


@router.post(FAMILY + "/leave", response={200: FamilyOut}, summary="A member leaves the family")
@raises("family_not_found", "member_not_found", "identity_unavailable")
def leave_family(request, workspace: str, family_id: str, payload: LeaveIn):
    ws = get_workspace_for(request.auth, workspace)

    def run(repeat: bool = False):
        membership.leave_family(workspace=ws, family_id=family_id, user_id=payload.user_id, repeat=repeat)
        return 200, _family_out(ws, family_id)

    fingerprint = {"family_id": family_id, **payload.model_dump()}
    return keyed_answer(
        request,
        workspace=ws,
        operation="leave_family",
        fingerprint=fingerprint,
        run=run,
        again=lambda: run(repeat=True),
    )


def _limit_change(payload: LimitIn) -> membership.LimitChange:
    if payload.unlimited is True and payload.amount is None and payload.frame is None:
        return membership.LimitChange(amount=None, revision=payload.revision)
    if payload.unlimited is None and payload.amount is not None and payload.frame is not None:
        return membership.LimitChange(amount=parse_amount_field("amount", payload.amount), revision=payload.revision)
    raise ValidationFailed(
        {"amount": ['Send {"amount", "frame": "MONTH", "revision"} or {"unlimited": true, "revision"}.']}
    )


@router.put(FAMILY + "/members/{user_id}/limit", response={200: FamilyOut}, summary="Set a member's limit (owner only)")
@raises("family_not_found", "not_owner", "member_not_found", "stale_revision", "identity_unavailable")
def put_family_member_limit(request, workspace: str, family_id: str, user_id: str, payload: LimitIn):
    """200 with the family at its new revision; a stale `revision` is 409 `stale_revision`. What
    the member used this month stays."""
    ws = get_workspace_for(request.auth, workspace)

    def run():
        membership.set_member_limit(
            workspace=ws,
            family_id=family_id,
            acting_user_id=payload.acting_user_id,
            user_id=user_id,
            change=_limit_change(payload),
            now=clock.now(),
        )
        return 200, _family_out(ws, family_id)

    fingerprint = {"family_id": family_id, "user_id": user_id, **payload.model_dump()}
    return keyed_answer(request, workspace=ws, operation="put_family_member_limit", fingerprint=fingerprint, run=run)


@router.put(FAMILY + "/payment", response={200: FamilyOut}, summary="Set the family card (owner only)")
@raises("family_not_found", "not_owner", "upstream_unavailable", "identity_unavailable")
def put_family_payment_method(request, workspace: str, family_id: str, payload: PaymentIn):
    """200 with the family; a card that is not one of the owner's own is 422 `validation_failed`."""
    ws = get_workspace_for(request.auth, workspace)

    def run():
        membership.set_payment_method(
            workspace=ws,
            family_id=family_id,
            acting_user_id=payload.acting_user_id,
            payment_method_id=payload.payment_method_id,
            now=clock.now(),
        )
        return 200, _family_out(ws, family_id)

    fingerprint = {"family_id": family_id, **payload.model_dump()}
    return keyed_answer(request, workspace=ws, operation="put_family_payment_method", fingerprint=fingerprint, run=run)
