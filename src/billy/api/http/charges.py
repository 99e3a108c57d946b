"""Charges over HTTP: charge or hold, confirm, cancel, refund, read, list, and batches.

Money is a decimal string (`"1234.50"`, at most two decimals) with a `currency`; a JSON number
for money is refused (422), because JSON parsers round numbers silently.
"""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from billy.charges import batch, coalesce
from billy.charges import operations as charge_operations
from billy.charges import queries as charge_queries
from billy.charges.models import Charge, Refund
from billy.core import clock
from billy.core.errors import ValidationFailed
from billy.core.money import format_amount, parse_amount_field
from billy.core.pagination import MAX_LIMIT
from billy.core.validation import ID_RULE, METADATA_RULE
from billy.workspaces.models import Workspace
from billy.workspaces.queries import get_workspace_for

from .errors import ErrorBody
from .fields import CURRENCY, ID, METADATA, MONEY_IN, NAME, Timestamp, currency, money
from .keys import keyed_answer
from .openapi import raises
from .scope import CLIENT_PATH, client_in_scope
from .strict import StrictSchema, one_of, utc_filter

MAX_BATCH_ITEMS = batch.MAX_ITEMS
CHARGE_PATH = "/workspaces/{workspace}/charges/{charge_id}"

router = Router(tags=["charges"])

ChargeStatus = one_of(Charge.Status)
CancelReason = one_of(Charge.CancelReason)


class ChargeIn(StrictSchema):
    charge_id: str = Field(description=ID_RULE, json_schema_extra=ID)
    product: str = Field(json_schema_extra=NAME)
    amount: str = Field(description="Greater than zero.", json_schema_extra=MONEY_IN)
    currency: str | None = Field(
        None, description="Defaults to the wallet's; another one is refused.", json_schema_extra=CURRENCY
    )
    hold: bool = False
    hold_ttl_seconds: int | None = Field(
        None,
        description="For a hold; default 7 days.",
        json_schema_extra={
            "minimum": charge_operations.MIN_HOLD_TTL_SECONDS,
            "maximum": charge_operations.MAX_HOLD_TTL_SECONDS,
        },
    )
    description: str = Field("", json_schema_extra={"maxLength": 512})
    metadata: dict[str, str] = Field(
        default_factory=dict,
        description=f"Your own key-value pairs, kept and shown with the charge and its events. {METADATA_RULE}",
        json_schema_extra=METADATA,
    )


class RefundOut(Schema):
    refund_id: str
    charge_id: str
    amount: str = money("What this refund returned.")
    currency: str = currency()
    reason: str
    created_at: Timestamp


class ChargeOut(Schema):
    charge_id: str
    client: str = Field(description="The client's service client id.")
    product: str
    amount: str = money("What was charged, or held for a hold.")
    currency: str = currency()
    status: ChargeStatus
    hold: bool
    captured_amount: str = money("What a confirmed hold took (the amount for a plain charge).")
    refunded_amount: str = money()
    hold_expires_at: Timestamp | None
    cancel_reason: CancelReason | None = Field(description="For a cancelled hold: who cancelled it; else null.")
    description: str
    metadata: dict[str, str]
    created_at: Timestamp
    updated_at: Timestamp
    refunds: list[RefundOut]


class ChargePage(Schema):
    charges: list[ChargeOut]
    next_cursor: str | None


class ConfirmIn(StrictSchema):
    amount: str | None = Field(
        None, description="At most the held amount; the rest is released.", json_schema_extra=MONEY_IN
    )


class RefundIn(StrictSchema):
    refund_id: str = Field(description=ID_RULE, json_schema_extra=ID)
    amount: str | None = Field(None, description="Default: all that is left.", json_schema_extra=MONEY_IN)
    reason: str = Field("", json_schema_extra={"maxLength": 512})


def _amount(field: str, text: str | None) -> int | None:
    return parse_amount_field(field, text)


def _charge_request(payload: ChargeIn) -> charge_operations.ChargeRequest:
    return charge_operations.ChargeRequest(
        charge_id=payload.charge_id,
        product=payload.product,
        amount=_amount("amount", payload.amount),
        currency=payload.currency,
        hold=payload.hold,
        hold_ttl_seconds=payload.hold_ttl_seconds,
        description=payload.description,
        metadata=payload.metadata,
    )


def refund_data(refund: Refund, charge: Charge) -> dict:
    return {
        "refund_id": refund.refund_id,
        "charge_id": charge.charge_id,
        "amount": format_amount(refund.amount),
        "currency": charge.currency,
        "reason": refund.reason,
        "created_at": refund.created_at,
    }


def charge_data(charge: Charge) -> dict:
    """A charge as the API shows it (ChargeOut's fields)."""
    return {
        "charge_id": charge.charge_id,
        "client": charge.client.service_client_id,
        "product": charge.product,
        "amount": format_amount(charge.amount),
        "currency": charge.currency,
        "status": charge.status,
        "hold": charge.hold,
        "captured_amount": format_amount(charge.captured),
        "refunded_amount": format_amount(charge.refunded),
        "hold_expires_at": charge.hold_expires_at,
        "cancel_reason": charge.cancel_reason or None,
        "description": charge.description,
        "metadata": charge.metadata,
        "created_at": charge.created_at,
        "updated_at": charge.updated_at,
        "refunds": [refund_data(r, charge) for r in charge.refunds.all()] if charge.refunded else [],
    }


def charge_out(charge: Charge) -> ChargeOut:
    return ChargeOut(**charge_data(charge))


# -- one client's charges ----------------------------------------------------------------------


@router.post(
    CLIENT_PATH + "/charges",
    response={200: ChargeOut, 201: ChargeOut},
    summary="Charge the client (or hold the money)",
)
@raises("client_not_found", "insufficient_funds", "currency_mismatch")
def create_charge(request, workspace: str, service_client_id: str, payload: ChargeIn):
    """201 with the new charge (`COMPLETED`, or `HELD` for a hold); 200 with the charge as it is now
    when the same `charge_id` comes again with the same body; 409 `idempotency_conflict` with another.
    With an `Idempotency-Key`, a repeat with the key replays the first answer (201 and the charge as
    it was then), and the key with another body (another `charge_id` included) is 409."""
    ws, client = client_in_scope(request, workspace, service_client_id)

    def run():
        charge, created = coalesce.post_charge(client=client, request=_charge_request(payload), now=clock.now())
        return 201 if created else 200, charge_data(charge)  # plain data: ChargeOut's fields, not validated again

    return keyed_answer(
        request,
        workspace=ws,
        operation="charge",
        fingerprint=lambda: {"client": service_client_id, **payload.model_dump()},
        run=run,
    )


class ChargeFilters(Schema):
    product: str | None = None
    status: ChargeStatus | None = Field(None, description="HELD, COMPLETED or CANCELLED (upper case).")
    created_from: dt.datetime | None = Field(None, description="Created at or after (RFC 3339).")
    created_to: dt.datetime | None = Field(None, description="Created before (RFC 3339).")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


class ClientChargeFilters(ChargeFilters):
    # The names this list had before created_from/created_to; still taken.
    older_from: dt.datetime | None = Field(None, alias="from", description="created_from's older name.")
    older_to: dt.datetime | None = Field(None, alias="to", description="created_to's older name.")


class WorkspaceChargeFilters(ChargeFilters):
    client: str | None = Field(None, description="Only this client's charges (its service client id).")


def _charge_page(ws: Workspace, filters: ChargeFilters, **scope) -> ChargePage:
    older_from, older_to = getattr(filters, "older_from", None), getattr(filters, "older_to", None)
    charges, next_cursor = charge_queries.list_charges(
        workspace=ws,
        limit=filters.limit,
        cursor=filters.cursor,
        product=filters.product,
        status=filters.status,
        created_from=utc_filter("created_from", filters.created_from) or utc_filter("from", older_from),
        created_to=utc_filter("created_to", filters.created_to) or utc_filter("to", older_to),
        **scope,
    )
    return ChargePage(charges=[charge_out(c) for c in charges], next_cursor=next_cursor)


@router.get(CLIENT_PATH + "/charges", response={200: ChargePage}, summary="The client's charges")
@raises("client_not_found")
def list_client_charges(request, workspace: str, service_client_id: str, filters: Query[ClientChargeFilters]):
    """Newest first; every filter is optional and they combine. `next_cursor` is null on the last page."""
    ws, client = client_in_scope(request, workspace, service_client_id)
    return Status(200, _charge_page(ws, filters, client=client))


# -- the workspace's charges -------------------------------------------------------------------


@router.get("/workspaces/{workspace}/charges", response={200: ChargePage}, summary="The workspace's charges")
def list_charges(request, workspace: str, filters: Query[WorkspaceChargeFilters]):
    """Newest first; every filter is optional and they combine. `next_cursor` is null on the last page."""
    ws = get_workspace_for(request.auth, workspace)
    return Status(200, _charge_page(ws, filters, service_client_id=filters.client))


class BatchChargeIn(ChargeIn):
    service_client_id: str = Field(json_schema_extra=NAME)


class BatchIn(StrictSchema):
    charges: list[BatchChargeIn] = Field(json_schema_extra={"maxItems": MAX_BATCH_ITEMS, "minItems": 1})


class BatchResultOut(Schema):
    status: int = Field(description="What the single call would answer: 201, 200, or an error status.")
    charge_id: str
    charge: ChargeOut | None = None
    error: ErrorBody | None = Field(None, description="The error the single call would answer.")


class BatchOut(Schema):
    results: list[BatchResultOut]


@router.post(
    "/workspaces/{workspace}/charges:batch",
    response={200: BatchOut},
    summary="Up to 1,000 charges of any clients in one call",
)
def create_charges_batch(request, workspace: str, payload: BatchIn):
    """Each item behaves exactly like the single call; `results` are in the items' order."""
    ws = get_workspace_for(request.auth, workspace)
    items = []
    for item in payload.charges:
        try:
            items.append(batch.BatchItem(service_client_id=item.service_client_id, request=_charge_request(item)))
        except ValidationFailed as e:  # this item only
            items.append(batch.UnreadableItem(charge_id=item.charge_id, error=e))

    def run():
        results = [
            {
                "status": r.status,
                "charge_id": r.charge_id,
                "charge": charge_data(r.charge) if r.charge else None,
                "error": r.error.as_dict()["error"] if r.error else None,
            }
            for r in batch.post_charges(workspace=ws, items=items, now=clock.now())
        ]
        # Built as plain data: validating 1,000 response models would cost more than the charges.
        return 200, {"results": results}

    return keyed_answer(request, workspace=ws, operation="charges_batch", fingerprint=payload.model_dump, run=run)


# -- one charge --------------------------------------------------------------------------------


@router.get(CHARGE_PATH, response={200: ChargeOut}, summary="A charge")
@raises("charge_not_found")
def get_charge(request, workspace: str, charge_id: str):
    ws = get_workspace_for(request.auth, workspace)
    return Status(200, charge_out(charge_queries.get_charge(workspace=ws, charge_id=charge_id)))


@router.post(CHARGE_PATH + "/confirm", response={200: ChargeOut}, summary="Confirm a hold")
@raises("charge_not_found", "invalid_state")
def confirm_charge(request, workspace: str, charge_id: str, payload: ConfirmIn):
    ws = get_workspace_for(request.auth, workspace)

    def run():
        charge = charge_operations.confirm_charge(
            workspace=ws, charge_id=charge_id, amount=_amount("amount", payload.amount), now=clock.now()
        )
        return 200, charge_out(charge)

    return keyed_answer(
        request,
        workspace=ws,
        operation="confirm_charge",
        fingerprint={"charge_id": charge_id, **payload.model_dump()},
        run=run,
    )


@router.post(CHARGE_PATH + "/cancel", response={200: ChargeOut}, summary="Cancel a hold")
@raises("charge_not_found", "invalid_state")
def cancel_charge(request, workspace: str, charge_id: str):
    ws = get_workspace_for(request.auth, workspace)

    def run():
        return 200, charge_out(charge_operations.cancel_charge(workspace=ws, charge_id=charge_id, now=clock.now()))

    return keyed_answer(request, workspace=ws, operation="cancel_charge", fingerprint={"charge_id": charge_id}, run=run)


@router.post(CHARGE_PATH + "/refunds", response={200: RefundOut, 201: RefundOut}, summary="Refund a charge")
@raises("charge_not_found", "invalid_state", "refund_exceeds_charge")
def create_refund(request, workspace: str, charge_id: str, payload: RefundIn):
    """201 with the new refund; 200 with it as it is when the same `refund_id` comes again with the
    same body; 409 `idempotency_conflict` with another."""
    ws = get_workspace_for(request.auth, workspace)

    def run():
        refund, created = charge_operations.refund_charge(
            workspace=ws,
            charge_id=charge_id,
            refund_id=payload.refund_id,
            amount=_amount("amount", payload.amount),
            reason=payload.reason,
            now=clock.now(),
        )
        return 201 if created else 200, RefundOut(**refund_data(refund, refund.charge))

    return keyed_answer(
        request,
        workspace=ws,
        operation="refund_charge",
        fingerprint={"charge_id": charge_id, **payload.model_dump()},
        run=run,
    )
