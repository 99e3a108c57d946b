"""A client's invoices over HTTP: a prepay invoice in one call, read one, list them (the prepay ones
the consumer asked for and the credit ones Balance formed at a month close)."""

from __future__ import annotations

from ninja import Field, Query, Router, Schema, Status

from billy.core import clock
from billy.core.money import format_amount, parse_amount_field
from billy.core.pagination import MAX_LIMIT
from billy.core.validation import ID_RULE
from billy.integrations.balance import get_balance
from billy.moneyin import invoices as operations
from billy.moneyin import queries
from billy.moneyin.models import Invoice

from .fields import ID, MONEY_IN, Timestamp, currency, money
from .keys import keyed_answer
from .openapi import raises
from .scope import CLIENT_PATH, client_in_scope
from .strict import StrictSchema, one_of

router = Router(tags=["invoices"])

InvoiceKind = one_of(Invoice.Kind)
InvoiceStatus = one_of(Invoice.Status)


class InvoiceIn(StrictSchema):
    invoice_id: str = Field(description=f"Yours, and the call's idempotency key. {ID_RULE}", json_schema_extra=ID)
    amount: str = Field(description="Greater than zero, in the wallet's currency.", json_schema_extra=MONEY_IN)
    payer_id: str | None = Field(
        None, description="The active contract's payer (the default); another is refused.", json_schema_extra=ID
    )


class InvoiceOut(Schema):
    invoice_id: str
    client: str
    kind: InvoiceKind = Field(description="PREPAY (asked for here) or CREDIT (formed by Balance at a month close).")
    number: str | None = Field(description="Balance's invoice number.")
    amount: str = money()
    paid_amount: str = money("What Balance has received against it.")
    currency: str = currency()
    status: InvoiceStatus = Field(
        description="PENDING (not yet issued), ISSUED, PARTIALLY_PAID, PAID, or NEEDS_ATTENTION (an operator decides)."
    )
    payment_url: str | None = Field(description="Balance's page where the invoice is paid.")
    payer_id: str
    contract_id: str
    created_at: Timestamp
    updated_at: Timestamp


class InvoicePage(Schema):
    invoices: list[InvoiceOut]
    next_cursor: str | None


class InvoiceFilters(Schema):
    kind: InvoiceKind | None = Field(None, description="PREPAY or CREDIT.")
    status: InvoiceStatus | None = Field(None, description="One status (upper case).")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


def invoice_out(invoice: Invoice, service_client_id: str) -> InvoiceOut:
    return InvoiceOut(
        invoice_id=invoice.invoice_id,
        client=service_client_id,
        kind=invoice.kind,
        number=invoice.number or None,
        amount=format_amount(invoice.amount),
        paid_amount=format_amount(invoice.paid_amount),
        currency=invoice.currency,
        status=invoice.status,
        payment_url=invoice.payment_url or None,
        payer_id=invoice.payer.payer_id,
        contract_id=invoice.contract.contract_id,
        created_at=invoice.created_at,
        updated_at=invoice.updated_at,
    )


@router.post(CLIENT_PATH + "/invoices", response={200: InvoiceOut, 201: InvoiceOut}, summary="Form a prepay invoice")
@raises(
    "client_not_found",
    "invalid_state",
    "no_active_contract",
    "needs_attention",
    "upstream_rejected",
    "upstream_error",
    "upstream_unavailable",
)
def create_invoice(request, workspace: str, service_client_id: str, payload: InvoiceIn):
    """A prepay invoice on the client's active contract (Balance's CreateRequest and CreateInvoice in
    one call): 201 `ISSUED` with its `payment_url`. The same `invoice_id` with the same body is 200
    with the invoice as it is now (`PARTIALLY_PAID`, `PAID` as money arrives); with another body,
    409 `idempotency_conflict`. 409 `no_active_contract` when the client has none."""
    ws, client = client_in_scope(request, workspace, service_client_id)

    def run():
        result = operations.create_invoice(
            client=client,
            invoice_id=payload.invoice_id,
            amount=parse_amount_field("amount", payload.amount),
            payer_id=payload.payer_id,
            balance=get_balance(),
            now=clock.now(),
        )
        return 201 if result.created else 200, invoice_out(result.invoice, service_client_id)

    return keyed_answer(
        request,
        workspace=ws,
        operation="create_invoice",
        fingerprint={"client": service_client_id, **payload.model_dump()},
        run=run,
    )


@router.get(CLIENT_PATH + "/invoices/{invoice_id}", response={200: InvoiceOut}, summary="Get an invoice")
@raises("client_not_found", "invoice_not_found")
def get_invoice(request, workspace: str, service_client_id: str, invoice_id: str):
    _, client = client_in_scope(request, workspace, service_client_id)
    return Status(200, invoice_out(queries.get_invoice(client=client, invoice_id=invoice_id), service_client_id))


@router.get(CLIENT_PATH + "/invoices", response={200: InvoicePage}, summary="The client's invoices")
@raises("client_not_found")
def list_invoices(request, workspace: str, service_client_id: str, filters: Query[InvoiceFilters]):
    """Newest first, prepay and credit; the filters are optional and combine. `next_cursor` is null
    on the last page."""
    _, client = client_in_scope(request, workspace, service_client_id)
    invoices, next_cursor = queries.list_invoices(
        client=client, limit=filters.limit, cursor=filters.cursor, kind=filters.kind, status=filters.status
    )
    return Status(
        200, InvoicePage(invoices=[invoice_out(i, service_client_id) for i in invoices], next_cursor=next_cursor)
    )
