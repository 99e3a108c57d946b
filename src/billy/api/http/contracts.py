"""A client's contracts over HTTP: accept an offer in Balance (prepay or postpay) under the
consumer's own id, change a postpay contract's credit limit or term, read back."""

from __future__ import annotations

import contextlib
import datetime as dt
import re

from ninja import Field, Query, Router, Schema, Status

from billy.core import clock
from billy.core.errors import ValidationFailed
from billy.core.money import AMOUNT_PATTERN, format_amount, parse_amount_field
from billy.core.pagination import MAX_LIMIT
from billy.integrations.balance import get_balance
from billy.payers import contracts as operations
from billy.payers import queries
from billy.payers.models import Contract

from .fields import CURRENCY, ID, Timestamp, currency, money
from .keys import keyed_answer
from .openapi import raises
from .scope import CLIENT_PATH, client_in_scope
from .strict import StrictSchema, one_of

router = Router(tags=["contracts"])
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def parse_day(field: str, text: str) -> dt.date:
    if re.fullmatch(DATE_PATTERN, text):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(text)
    raise ValidationFailed({field: ["A calendar day, YYYY-MM-DD."]})


PaymentType = one_of(Contract.PaymentType)
ContractStatus = one_of(Contract.Status)
CONTRACT_PATH = CLIENT_PATH + "/contracts/{contract_id}"


class ContractIn(StrictSchema):
    payer_id: str = Field(description="The client's payer the contract is made out to.", json_schema_extra=ID)
    payment_type: PaymentType = Field(description="PREPAY or POSTPAY.")
    currency: str | None = Field(
        None, description="Defaults to the wallet's; another is refused.", json_schema_extra=CURRENCY
    )
    credit_limit: str | None = Field(
        None,
        description="POSTPAY only; 0.00 when not given.",
        json_schema_extra={"pattern": AMOUNT_PATTERN, "examples": ["5000.00"]},
    )
    payment_term_days: int | None = Field(
        None, description="POSTPAY only, and required there: days to pay a credit invoice.", ge=1, le=365
    )
    start_date: str = Field(
        description="The contract's first day (YYYY-MM-DD).",
        json_schema_extra={"format": "date", "pattern": DATE_PATTERN, "examples": ["2026-11-01"]},
    )


class ContractOut(Schema):
    contract_id: str
    client: str
    payer_id: str
    payment_type: PaymentType
    currency: str = currency()
    credit_limit: str = money()
    payment_term_days: int | None
    start_date: dt.date
    status: ContractStatus = Field(
        description="PENDING until Balance has opened the personal account and the wallet is bound to its "
        "wallet order, then ACTIVE; NEEDS_ATTENTION waits for an operator."
    )
    number: str | None = Field(description="Balance's contract number.")
    personal_account_number: str | None = Field(description="The personal account's number in Balance.")
    created_at: Timestamp
    updated_at: Timestamp


class ContractPage(Schema):
    contracts: list[ContractOut]
    next_cursor: str | None


def contract_out(contract: Contract, service_client_id: str) -> ContractOut:
    return ContractOut(
        contract_id=contract.contract_id,
        client=service_client_id,
        payer_id=contract.payer.payer_id,
        payment_type=contract.payment_type,
        currency=contract.currency,
        credit_limit=format_amount(contract.credit_limit),
        payment_term_days=contract.payment_term_days,
        start_date=contract.start_date,
        status=contract.status,
        number=contract.number or None,
        personal_account_number=contract.personal_account_number or None,
        created_at=contract.created_at,
        updated_at=contract.updated_at,
    )


@router.put(
    CONTRACT_PATH, response={200: ContractOut, 201: ContractOut}, summary="Create a contract, or change its credit"
)
@raises(
    "client_not_found",
    "payer_not_found",
    "invalid_state",
    "contract_exists",
    "needs_attention",
    "upstream_rejected",
    "upstream_error",
    "upstream_unavailable",
)
def put_contract(request, workspace: str, service_client_id: str, contract_id: str, payload: ContractIn):
    """201 when this call created the contract in Balance; 200 when it changed the credit limit or
    payment term (UpdateContract) or nothing changed. Another payer, payment type, currency or start
    date for the same `contract_id` is 409 `idempotency_conflict`; a second contract of the client
    in the same currency is 409 `contract_exists`. The contract is ACTIVE once Balance has opened
    its personal account (at once, or a moment later: read it again)."""
    ws, client = client_in_scope(request, workspace, service_client_id)

    def run():
        result = operations.put_contract(
            client=client,
            contract_id=contract_id,
            terms=operations.ContractTerms(
                payer_id=payload.payer_id,
                payment_type=payload.payment_type,
                start_date=parse_day("start_date", payload.start_date),
                currency=payload.currency,
                credit_limit=parse_amount_field("credit_limit", payload.credit_limit),
                payment_term_days=payload.payment_term_days,
            ),
            balance=get_balance(),
            now=clock.now(),
        )
        return 201 if result.created else 200, contract_out(result.contract, service_client_id)

    return keyed_answer(
        request,
        workspace=ws,
        operation="put_contract",
        fingerprint={"client": service_client_id, "contract_id": contract_id, **payload.model_dump(mode="json")},
        run=run,
    )


@router.get(CONTRACT_PATH, response={200: ContractOut}, summary="Get a contract")
@raises("client_not_found", "contract_not_found")
def get_contract(request, workspace: str, service_client_id: str, contract_id: str):
    _, client = client_in_scope(request, workspace, service_client_id)
    return Status(200, contract_out(queries.get_contract(client=client, contract_id=contract_id), service_client_id))


@router.get(CLIENT_PATH + "/contracts", response={200: ContractPage}, summary="The client's contracts")
@raises("client_not_found")
def list_contracts(
    request,
    workspace: str,
    service_client_id: str,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
):
    """Newest first; `next_cursor` is null on the last page."""
    _, client = client_in_scope(request, workspace, service_client_id)
    contracts, next_cursor = queries.list_contracts(client=client, limit=limit, cursor=cursor)
    return Status(
        200, ContractPage(contracts=[contract_out(c, service_client_id) for c in contracts], next_cursor=next_cursor)
    )
