"""A client's wallet over HTTP: its balance, its history, operators' adjustments, and transfers
from a postpay contract's credit limit."""

from __future__ import annotations

from ninja import Field, Query, Router, Schema, Status

from billy.core import clock
from billy.core.errors import Forbidden
from billy.core.money import format_amount, parse_amount_field
from billy.core.pagination import MAX_LIMIT
from billy.core.validation import ID_RULE
from billy.integrations.balance import get_balance
from billy.ledger import operations as ledger_operations
from billy.ledger import queries as ledger_queries
from billy.ledger.models import LedgerTransaction
from billy.moneyin import credit as credit_operations
from billy.moneyin import queries as moneyin_queries
from billy.moneyin.models import CreditTransfer
from billy.workspaces.models import ApiKey
from billy.workspaces.queries import Principal

from .fields import ID, MONEY_IN, SIGNED_MONEY_IN, Timestamp, currency, money
from .keys import keyed_answer
from .openapi import raises
from .scope import CLIENT_PATH, client_in_scope
from .strict import StrictSchema, one_of

router = Router(tags=["wallets"])

TransactionKind = one_of(LedgerTransaction.Kind)


class WalletOut(Schema):
    currency: str = currency()
    balance: str = money("All the money on the wallet, held included.")
    held: str = money("Money held for charges not yet confirmed or cancelled.")
    available: str = money("What a charge can take now: balance - held.")
    credit_limit: str = money("The postpay contract's credit limit (0.00 without one).")
    credit_used: str = money("Credit moved onto the wallet (or on its way) and not yet repaid to Balance.")
    credit_available: str = money("What a credit transfer can still move: credit_limit - credit_used.")


class WalletTransactionOut(Schema):
    id: int
    kind: TransactionKind
    amount: str = money("Signed: what the wallet gained or lost.")
    currency: str = currency()
    description: str
    charge_id: str | None = Field(description="The charge that made it (a charge, or a refund of it).")
    refund_id: str | None = Field(description="The refund that made it.")
    adjustment_id: str | None = Field(description="The adjustment that made it.")
    created_at: Timestamp


class WalletTransactionPage(Schema):
    transactions: list[WalletTransactionOut]
    next_cursor: str | None


class AdjustmentIn(StrictSchema):
    adjustment_id: str = Field(description=ID_RULE, json_schema_extra=ID)
    amount: str = Field(
        description="May be negative, never below what is available.", json_schema_extra=SIGNED_MONEY_IN
    )
    reason: str = Field(json_schema_extra={"minLength": 1, "maxLength": 512})


class AdjustmentOut(Schema):
    adjustment_id: str
    client: str
    amount: str = money()
    currency: str = currency()
    reason: str
    created_by: str
    created_at: Timestamp
    wallet: WalletOut


def wallet_out(view: ledger_queries.WalletView) -> WalletOut:
    return WalletOut(
        currency=view.currency,
        balance=format_amount(view.balance),
        held=format_amount(view.held),
        available=format_amount(view.available),
        credit_limit=format_amount(view.credit_limit),
        credit_used=format_amount(view.credit_used),
        credit_available=format_amount(view.credit_available),
    )


@router.get(CLIENT_PATH + "/wallet", response={200: WalletOut}, summary="The client's wallet")
@raises("client_not_found")
def get_wallet(request, workspace: str, service_client_id: str):
    _, client = client_in_scope(request, workspace, service_client_id)
    return Status(200, wallet_out(ledger_queries.get_wallet(client=client)))


@router.get(CLIENT_PATH + "/wallet/transactions", response={200: WalletTransactionPage}, summary="Wallet history")
@raises("client_not_found")
def list_wallet_transactions(
    request,
    workspace: str,
    service_client_id: str,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
):
    """Newest first; `next_cursor` is null on the last page."""
    _, client = client_in_scope(request, workspace, service_client_id)
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
    response={200: AdjustmentOut, 201: AdjustmentOut},
    summary="Correct a wallet (operator keys only)",
)
@raises("forbidden", "client_not_found", "insufficient_funds")
def create_adjustment(request, workspace: str, service_client_id: str, payload: AdjustmentIn):
    """201 with the new adjustment; 200 with it as it is when the same `adjustment_id` comes again
    with the same body; 409 `idempotency_conflict` with another."""
    principal: Principal = request.auth
    if principal.role != ApiKey.Role.OPERATOR:
        raise Forbidden("Adjustments need an operator API key.")
    ws, client = client_in_scope(request, workspace, service_client_id)

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


TransferStatus = one_of(CreditTransfer.Status)


class CreditTransferIn(StrictSchema):
    transfer_id: str = Field(description=f"Yours, and the call's idempotency key. {ID_RULE}", json_schema_extra=ID)
    amount: str = Field(description="Greater than zero, at most credit_available.", json_schema_extra=MONEY_IN)


class CreditTransferOut(Schema):
    transfer_id: str
    client: str
    amount: str = money()
    currency: str = currency()
    status: TransferStatus = Field(
        description="SUCCEEDED (the wallet has the money), PENDING (Balance's answer is not known yet: repeat the "
        "call), FAILED (Balance refused; nothing moved) or NEEDS_ATTENTION (an operator decides)."
    )
    created_at: Timestamp
    updated_at: Timestamp
    wallet: WalletOut


def _transfer_out(transfer, client) -> CreditTransferOut:
    return CreditTransferOut(
        transfer_id=transfer.transfer_id,
        client=client.service_client_id,
        amount=format_amount(transfer.amount),
        currency=transfer.currency,
        status=transfer.status,
        created_at=transfer.created_at,
        updated_at=transfer.updated_at,
        wallet=wallet_out(ledger_queries.get_wallet(client=client)),
    )


@router.post(
    CLIENT_PATH + "/wallet/credit-transfers",
    response={200: CreditTransferOut, 201: CreditTransferOut},
    summary="Move money from the credit limit onto the wallet",
)
@raises(
    "client_not_found",
    "no_active_contract",
    "contract_not_postpay",
    "credit_limit_exceeded",
    "needs_attention",
    "upstream_rejected",
    "upstream_error",
    "upstream_unavailable",
)
def create_credit_transfer(request, workspace: str, service_client_id: str, payload: CreditTransferIn):
    """Balance's DepositFromCredit on the postpay contract: 201 `SUCCEEDED` with the wallet grown by
    the amount. Over `credit_available`: 422 `credit_limit_exceeded`, nothing written, Balance not
    called. The same `transfer_id` with the same body is 200 with the transfer as it is (a PENDING
    one is finished first); with another body, 409 `idempotency_conflict`."""
    ws, client = client_in_scope(request, workspace, service_client_id)

    def run():
        result = credit_operations.create_credit_transfer(
            client=client,
            transfer_id=payload.transfer_id,
            amount=parse_amount_field("amount", payload.amount),
            balance=get_balance(),
            now=clock.now(),
        )
        return 201 if result.created else 200, _transfer_out(result.transfer, client)

    return keyed_answer(
        request,
        workspace=ws,
        operation="create_credit_transfer",
        fingerprint={"client": service_client_id, **payload.model_dump()},
        run=run,
    )


@router.get(
    CLIENT_PATH + "/wallet/credit-transfers/{transfer_id}",
    response={200: CreditTransferOut},
    summary="Get a credit transfer",
)
@raises("client_not_found", "credit_transfer_not_found")
def get_credit_transfer(request, workspace: str, service_client_id: str, transfer_id: str):
    _, client = client_in_scope(request, workspace, service_client_id)
    transfer = moneyin_queries.get_credit_transfer(client=client, transfer_id=transfer_id)
    return Status(200, _transfer_out(transfer, client))
