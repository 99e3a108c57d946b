"""Wallets, adjustments, charges, refunds and the event feed over HTTP.

Money is a decimal string (`"1234.50"`, at most two decimals) with a `currency`; a JSON number
for money is refused (422), because JSON parsers round numbers silently.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Query, Router, Schema, Status

from billy.charges import batch
from billy.charges import operations as charge_operations
from billy.charges import queries as charge_queries
from billy.charges.models import Charge, Refund
from billy.clients.models import Client
from billy.clients.queries import get_client
from billy.core import clock
from billy.core.errors import Forbidden, ValidationFailed
from billy.core.money import (
    AMOUNT_PATTERN,
    CURRENCY_PATTERN,
    POSITIVE_AMOUNT_PATTERN,
    format_amount,
    parse_amount_field,
)
from billy.core.pagination import MAX_LIMIT
from billy.core.validation import (
    ID_PATTERN,
    ID_RULE,
    MAX_ID_LENGTH,
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
    METADATA_RULE,
)
from billy.events import queries as event_queries
from billy.ledger import operations as ledger_operations
from billy.ledger import queries as ledger_queries
from billy.workspaces.models import ApiKey, Workspace
from billy.workspaces.queries import Principal, get_workspace_for

from .errors import ErrorBody, ErrorOut
from .keys import keyed_answer
from .strict import StrictSchema, one_of, utc_filter

MAX_BATCH_ITEMS = batch.MAX_ITEMS

router = Router(tags=["money"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
_MONEY = {"pattern": POSITIVE_AMOUNT_PATTERN, "examples": ["1234.50"]}
_ID = {"minLength": 1, "maxLength": MAX_ID_LENGTH, "pattern": ID_PATTERN, "examples": ["ch-2026-000123"]}
_NAME = {"minLength": 1, "maxLength": 128}
_CURRENCY = {"pattern": CURRENCY_PATTERN, "examples": ["RUB"]}
_METADATA = {
    "maxProperties": MAX_METADATA_KEYS,
    "propertyNames": {"minLength": 1, "maxLength": MAX_METADATA_KEY_LENGTH},
    "additionalProperties": {"type": "string", "maxLength": MAX_METADATA_VALUE_LENGTH},
    "examples": [{"order_id": "42"}],
}


def _amount(field: str, text: str | None) -> int | None:
    return parse_amount_field(field, text)


def _charge_request(payload: ChargeIn | BatchChargeIn) -> charge_operations.ChargeRequest:
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


def _client(request, workspace: str, service_client_id: str) -> tuple[Workspace, Client]:
    ws = get_workspace_for(request.auth, workspace)
    return ws, get_client(workspace=ws, service_client_id=service_client_id, related=("wallet",))


# -- schemas -----------------------------------------------------------------------------------


class WalletOut(Schema):
    currency: str
    balance: str
    held: str
    available: str
    credit_limit: str


class WalletTransactionOut(Schema):
    id: int
    kind: str = Field(description="CHARGE, REFUND or ADJUSTMENT.")
    amount: str = Field(description="Signed: what the wallet gained or lost.")
    currency: str
    description: str
    charge_id: str | None = Field(description="The charge that made it (a charge, or a refund of it).")
    refund_id: str | None = Field(description="The refund that made it.")
    adjustment_id: str | None = Field(description="The adjustment that made it.")
    created_at: dt.datetime


class WalletTransactionPage(Schema):
    transactions: list[WalletTransactionOut]
    next_cursor: str | None


class AdjustmentIn(StrictSchema):
    adjustment_id: str = Field(description=ID_RULE, json_schema_extra=_ID)
    amount: str = Field(
        description="May be negative, never below what is available.",
        json_schema_extra={"pattern": r"^-?" + AMOUNT_PATTERN.lstrip("^"), "examples": ["-100.00"]},
    )
    reason: str = Field(json_schema_extra={"minLength": 1, "maxLength": 512})


class AdjustmentOut(Schema):
    adjustment_id: str
    client: str
    amount: str
    currency: str
    reason: str
    created_by: str
    created_at: dt.datetime
    wallet: WalletOut


class ChargeIn(StrictSchema):
    charge_id: str = Field(description=ID_RULE, json_schema_extra=_ID)
    product: str = Field(json_schema_extra=_NAME)
    amount: str = Field(description="Greater than zero.", json_schema_extra=_MONEY)
    currency: str | None = Field(
        None, description="Defaults to the wallet's; another one is refused.", json_schema_extra=_CURRENCY
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
        json_schema_extra=_METADATA,
    )


class RefundOut(Schema):
    refund_id: str
    charge_id: str
    amount: str
    currency: str
    reason: str
    created_at: dt.datetime


class ChargeOut(Schema):
    charge_id: str
    client: str
    product: str
    amount: str
    currency: str
    status: str = Field(description="HELD, COMPLETED or CANCELLED.")
    hold: bool
    captured_amount: str
    refunded_amount: str
    hold_expires_at: dt.datetime | None
    cancel_reason: str = Field(description="REQUESTED or EXPIRED for a cancelled hold, else empty.")
    description: str
    metadata: dict[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime
    refunds: list[RefundOut]


class ChargePage(Schema):
    charges: list[ChargeOut]
    next_cursor: str | None


class ConfirmIn(StrictSchema):
    amount: str | None = Field(
        None, description="At most the held amount; the rest is released.", json_schema_extra=_MONEY
    )


class RefundIn(StrictSchema):
    refund_id: str = Field(description=ID_RULE, json_schema_extra=_ID)
    amount: str | None = Field(None, description="Default: all that is left.", json_schema_extra=_MONEY)
    reason: str = Field("", json_schema_extra={"maxLength": 512})


class EventPage(Schema):
    events: list[dict[str, Any]] = Field(
        description='Each: {"id", "type", "version", "created_at", ...facts}; the README lists the types.'
    )
    next_cursor: str


# -- output ------------------------------------------------------------------------------------


def wallet_out(view: ledger_queries.WalletView) -> WalletOut:
    return WalletOut(
        currency=view.currency,
        balance=format_amount(view.balance),
        held=format_amount(view.held),
        available=format_amount(view.available),
        credit_limit=format_amount(view.credit_limit),
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


def refund_out(refund: Refund, charge: Charge) -> RefundOut:
    return RefundOut(**refund_data(refund, charge))


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
        "cancel_reason": charge.cancel_reason,
        "description": charge.description,
        "metadata": charge.metadata,
        "created_at": charge.created_at,
        "updated_at": charge.updated_at,
        "refunds": [refund_data(r, charge) for r in charge.refunds.all()] if charge.refunded else [],
    }


def charge_out(charge: Charge) -> ChargeOut:
    return ChargeOut(**charge_data(charge))


# -- wallet ------------------------------------------------------------------------------------

CLIENT_PATH = "/workspaces/{workspace}/clients/{service_client_id}"


@router.get(CLIENT_PATH + "/wallet", response={200: WalletOut, **ERRORS}, summary="The client's wallet")
def get_wallet(request, workspace: str, service_client_id: str):
    _, client = _client(request, workspace, service_client_id)
    return Status(200, wallet_out(ledger_queries.get_wallet(client=client)))


@router.get(
    CLIENT_PATH + "/wallet/transactions", response={200: WalletTransactionPage, **ERRORS}, summary="Wallet history"
)
def get_wallet_transactions(
    request,
    workspace: str,
    service_client_id: str,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
):
    _, client = _client(request, workspace, service_client_id)
    items, next_cursor = ledger_queries.list_wallet_transactions(client=client, limit=limit, cursor=cursor)
    return Status(
        200,
        WalletTransactionPage(
            transactions=[
                WalletTransactionOut(
                    id=t.id,
                    kind=t.kind,
                    amount=format_amount(t.amount),
                    currency=t.currency,
                    description=t.description,
                    charge_id=t.source.get("charge_id"),
                    refund_id=t.source.get("refund_id"),
                    adjustment_id=t.source.get("adjustment_id"),
                    created_at=t.created_at,
                )
                for t in items
            ],
            next_cursor=next_cursor,
        ),
    )


@router.post(
    CLIENT_PATH + "/wallet/adjustments",
    response={200: AdjustmentOut, 201: AdjustmentOut, **ERRORS},
    summary="Correct a wallet (operator keys only)",
)
def post_adjustment(request, workspace: str, service_client_id: str, payload: AdjustmentIn):
    principal: Principal = request.auth
    if principal.role != ApiKey.Role.OPERATOR:
        raise Forbidden("Adjustments need an operator API key.")
    ws, client = _client(request, workspace, service_client_id)

    def run():
        adjustment, created = ledger_operations.adjust_wallet(
            client=client,
            adjustment_id=payload.adjustment_id,
            amount=parse_amount_field("amount", payload.amount, signed=True),
            reason=payload.reason,
            actor=f"api key {principal.name}",
            now=clock.now(),
        )
        return 201 if created else 200, AdjustmentOut(
            adjustment_id=adjustment.adjustment_id,
            client=client.service_client_id,
            amount=format_amount(adjustment.amount),
            currency=adjustment.currency,
            reason=adjustment.reason,
            created_by=adjustment.created_by,
            created_at=adjustment.created_at,
            wallet=wallet_out(ledger_queries.get_wallet(client=client)),
        )

    return keyed_answer(
        request,
        workspace=ws,
        operation="adjust_wallet",
        fingerprint={"client": service_client_id, **payload.model_dump()},
        run=run,
    )


# -- charges -----------------------------------------------------------------------------------


@router.post(
    CLIENT_PATH + "/charges",
    response={200: ChargeOut, 201: ChargeOut, **ERRORS},
    summary="Charge the client (or hold the money)",
)
def post_charge(request, workspace: str, service_client_id: str, payload: ChargeIn):
    """201 with the new charge (`COMPLETED`, or `HELD` for a hold); 200 with the charge as it is now
    when the same `charge_id` comes again with the same body; 409 `idempotency_conflict` with another.
    With an `Idempotency-Key`, a repeat with the key replays the first answer (201 and the charge as
    it was then), and the key with another body (another `charge_id` included) is 409."""
    ws, client = _client(request, workspace, service_client_id)

    def run():
        charge, created = charge_operations.post_charge(
            client=client, request=_charge_request(payload), now=clock.now()
        )
        return 201 if created else 200, charge_out(charge)

    return keyed_answer(
        request,
        workspace=ws,
        operation="charge",
        fingerprint={"client": service_client_id, **payload.model_dump()},
        run=run,
    )


ChargeStatus = one_of(Charge.Status)


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


@router.get(CLIENT_PATH + "/charges", response={200: ChargePage, **ERRORS}, summary="The client's charges")
def list_client_charges(request, workspace: str, service_client_id: str, filters: Query[ClientChargeFilters]):
    ws, client = _client(request, workspace, service_client_id)
    return Status(200, _charge_page(ws, filters, client=client))


@router.get("/workspaces/{workspace}/charges", response={200: ChargePage, **ERRORS}, summary="The workspace's charges")
def list_charges(request, workspace: str, filters: Query[WorkspaceChargeFilters]):
    """Newest first; every filter is optional and they combine. `next_cursor` is null on the last page."""
    ws = get_workspace_for(request.auth, workspace)
    return Status(200, _charge_page(ws, filters, service_client_id=filters.client))


class BatchChargeIn(ChargeIn):
    service_client_id: str = Field(json_schema_extra=_NAME)


class BatchIn(StrictSchema):
    charges: list[BatchChargeIn] = Field(json_schema_extra={"maxItems": MAX_BATCH_ITEMS, "minItems": 1})


class BatchResultOut(Schema):
    status: int = Field(description="What the single call would answer: 201, 200, or an error status.")
    charge_id: str
    charge: ChargeOut | None = None
    error: ErrorBody | None = None


class BatchOut(Schema):
    results: list[BatchResultOut]


@router.post(
    "/workspaces/{workspace}/charges:batch",
    response={200: BatchOut, **ERRORS},
    summary="Up to 1,000 charges of any clients in one call",
)
def post_charges_batch(request, workspace: str, payload: BatchIn):
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

    return keyed_answer(request, workspace=ws, operation="charges_batch", fingerprint=payload.model_dump(), run=run)


CHARGE_PATH = "/workspaces/{workspace}/charges/{charge_id}"


@router.get(CHARGE_PATH, response={200: ChargeOut, **ERRORS}, summary="A charge")
def get_charge(request, workspace: str, charge_id: str):
    ws = get_workspace_for(request.auth, workspace)
    return Status(200, charge_out(charge_queries.get_charge(workspace=ws, charge_id=charge_id)))


@router.post(CHARGE_PATH + "/confirm", response={200: ChargeOut, **ERRORS}, summary="Confirm a hold")
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


@router.post(CHARGE_PATH + "/cancel", response={200: ChargeOut, **ERRORS}, summary="Cancel a hold")
def cancel_charge(request, workspace: str, charge_id: str):
    ws = get_workspace_for(request.auth, workspace)

    def run():
        return 200, charge_out(charge_operations.cancel_charge(workspace=ws, charge_id=charge_id, now=clock.now()))

    return keyed_answer(request, workspace=ws, operation="cancel_charge", fingerprint={"charge_id": charge_id}, run=run)


@router.post(CHARGE_PATH + "/refunds", response={200: RefundOut, 201: RefundOut, **ERRORS}, summary="Refund a charge")
def post_refund(request, workspace: str, charge_id: str, payload: RefundIn):
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
        return 201 if created else 200, refund_out(refund, refund.charge)

    return keyed_answer(
        request,
        workspace=ws,
        operation="refund_charge",
        fingerprint={"charge_id": charge_id, **payload.model_dump()},
        run=run,
    )


# -- events ------------------------------------------------------------------------------------


@router.get("/workspaces/{workspace}/events", response={200: EventPage, **ERRORS}, summary="The event feed")
def get_events(
    request,
    workspace: str,
    after: str | None = None,
    limit: int = Query(100, ge=1, le=event_queries.MAX_LIMIT),
):
    """Events in commit order after the cursor; `next_cursor` never skips an event."""
    ws = get_workspace_for(request.auth, workspace)
    page = event_queries.read_feed(workspace_id=ws.pk, after=after, limit=limit)
    return Status(
        200,
        EventPage(
            events=[e.as_item() for e in page.events],
            next_cursor=page.next_cursor,
        ),
    )
