"""A prepay invoice in one call: CreateRequest for the wallet order, then CreateInvoice, write first.

A request moves no money and has no read-back: a failed or unknown CreateRequest is simply made
again. CreateInvoice is never repeated blindly: an unknown outcome is resolved by reading the
contract's invoices back and adopting the one unclaimed prepay invoice of this amount
(`billy.core.write_first`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from billy.clients.models import Client
from billy.core.errors import IdempotencyConflict, ValidationFailed
from billy.core.locks import session_lock
from billy.core.validation import check_id
from billy.core.write_first import NeedsAttention, adopt_or_flag, update_row
from billy.integrations.balance.port import (
    Balance,
    BalanceCode,
    BalanceError,
    BalanceFault,
    BalanceOutcomeUnknown,
    InvoiceData,
    InvoiceKind,
    PaymentMethod,
    Request,
    RequestItem,
)
from billy.payers.models import Contract
from billy.payers.queries import active_contract
from billy.payers.upstream import require_autocommit, require_registered, translate

from .models import Invoice

logger = logging.getLogger(__name__)

_INVOICE_LOCK = 0x696E766F  # "invo": work on one invoice, across processes
# Balance dates an invoice by its own clock: read back a little before the call started.
_CLOCK_SLACK = dt.timedelta(minutes=5)
MAX_INVOICE_AMOUNT = 10**15


@dataclass(frozen=True)
class InvoiceResult:
    invoice: Invoice
    created: bool  # this call made the invoice (201); a repeat with the same body answers it as it is (200)


def create_invoice(
    *, client: Client, invoice_id: str, amount: int, payer_id: str | None, balance: Balance, now: dt.datetime
) -> InvoiceResult:
    """Issue a prepay invoice of `amount` on the client's active contract, named by `invoice_id`.

    A repeat with the same body answers the invoice as it is (finishing its issue if an earlier call
    stopped half way). Commits as it goes. Raises ValidationFailed, NoActiveContract,
    IdempotencyConflict, NeedsAttention, UpstreamUnavailable, UpstreamRejected, UpstreamError.
    """
    require_autocommit("create_invoice")
    errors: dict[str, list[str]] = {}
    check_id(errors, "invoice_id", invoice_id)
    if payer_id is not None:
        check_id(errors, "payer_id", payer_id)
    if not 0 < amount <= MAX_INVOICE_AMOUNT:
        errors["amount"] = ["Above zero, and at most 10,000,000,000,000.00."]
    if errors:
        raise ValidationFailed(errors)
    invoice = _existing(client, invoice_id, amount=amount, payer_id=payer_id)
    created = invoice is None
    if invoice is None:
        require_registered(client)
        contract = active_contract(client=client)
        if payer_id is not None and payer_id != contract.payer.payer_id:
            raise ValidationFailed(
                {"payer_id": [f"The client's active contract is with payer {contract.payer.payer_id!r}."]}
            )
        invoice = _insert_pending(client=client, contract=contract, invoice_id=invoice_id, amount=amount, now=now)
        if invoice is None:  # a concurrent call with this invoice_id came first
            invoice, created = _existing(client, invoice_id, amount=amount, payer_id=payer_id), False
    with session_lock(_INVOICE_LOCK, invoice.pk):
        invoice = Invoice.objects.select_related("contract", "payer", "client").get(pk=invoice.pk)
        _advance(invoice, balance=balance, now=now)
    return InvoiceResult(invoice=invoice, created=created)


def recheck_invoice_in_balance(*, invoice_pk: int, balance: Balance, now: dt.datetime) -> Invoice:
    """Operator: look a NEEDS_ATTENTION invoice up in Balance again and adopt exactly one match."""
    with session_lock(_INVOICE_LOCK, invoice_pk):
        invoice = Invoice.objects.select_related("contract", "payer", "client").get(pk=invoice_pk)
        if invoice.status == Invoice.Status.NEEDS_ATTENTION:
            update_row(invoice, status=Invoice.Status.PENDING)
            _adopt_or_flag(invoice, balance=balance, now=now)
        return invoice


def resume_invoice(*, invoice_pk: int, balance: Balance, now: dt.datetime) -> Invoice:
    """Janitor: finish issuing an invoice its caller abandoned."""
    with session_lock(_INVOICE_LOCK, invoice_pk):
        invoice = Invoice.objects.select_related("contract", "payer", "client").get(pk=invoice_pk)
        _advance(invoice, balance=balance, now=now)
        return invoice


# -- internals -------------------------------------------------------------------------------


def _existing(client: Client, invoice_id: str, *, amount: int, payer_id: str | None) -> Invoice | None:
    invoice = (
        Invoice.objects.select_related("payer").filter(workspace_id=client.workspace_id, invoice_id=invoice_id).first()
    )
    if invoice is None:
        return None
    if (invoice.client_id, invoice.kind, invoice.amount) != (client.pk, Invoice.Kind.PREPAY, amount) or (
        payer_id is not None and payer_id != invoice.payer.payer_id
    ):
        raise IdempotencyConflict(f"invoice_id {invoice_id!r} was already used with another body.")
    return invoice


def _insert_pending(*, client: Client, contract: Contract, invoice_id: str, amount: int, now) -> Invoice | None:
    try:
        with transaction.atomic():
            return Invoice.objects.create(
                workspace_id=client.workspace_id,
                client=client,
                contract=contract,
                payer=contract.payer,
                invoice_id=invoice_id,
                amount=amount,
                currency=contract.currency,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        return None


def _advance(invoice: Invoice, *, balance: Balance, now: dt.datetime) -> None:
    if invoice.status == Invoice.Status.NEEDS_ATTENTION:
        raise NeedsAttention(invoice.attention_reason or None)
    if invoice.status == Invoice.Status.PENDING and invoice.invoice_call_started_at is not None:
        _adopt_or_flag(invoice, balance=balance, now=now)
    if invoice.status == Invoice.Status.PENDING:
        _issue(invoice, balance=balance, now=now)


def _issue(invoice: Invoice, *, balance: Balance, now: dt.datetime) -> None:
    contract = invoice.contract
    if invoice.balance_request_id is None:
        try:
            request_id = balance.create_request(
                Request(
                    client_id=invoice.client.balance_client_id,
                    items=(RequestItem(order_id=contract.wallet_order_id, amount=invoice.amount),),
                    external_ref=f"{invoice.workspace_id}/{invoice.invoice_id}",
                )
            )
        except BalanceError as e:  # a request moves no money: the next attempt makes a new one
            raise translate(e, "requesting the invoice") from e
        update_row(invoice, balance_request_id=request_id, updated_at=now)
    update_row(invoice, invoice_call_started_at=now, updated_at=now)  # write first
    try:
        issued = balance.create_invoice(
            InvoiceData(
                request_id=invoice.balance_request_id,
                person_id=invoice.payer.balance_person_id,
                contract_id=contract.balance_contract_id,
                payment_method=PaymentMethod.BANK,
            )
        )
    except BalanceOutcomeUnknown as e:
        logger.warning("CreateInvoice for invoice %s has an unknown outcome: %s", invoice.pk, e)
        raise translate(e, "issuing the invoice") from e
    except BalanceError as e:
        stale_request = isinstance(e, BalanceFault) and e.code == BalanceCode.REQUEST_NOT_FOUND
        update_row(invoice, invoice_call_started_at=None, **({"balance_request_id": None} if stale_request else {}))
        raise translate(e, "issuing the invoice") from e
    _record(invoice, balance_invoice_id=issued.invoice_id, number=issued.external_id, url=issued.url, now=now)


def _adopt_or_flag(invoice: Invoice, *, balance: Balance, now: dt.datetime) -> None:
    started_at = invoice.invoice_call_started_at
    try:
        found = balance.get_client_invoices(
            client_id=invoice.client.balance_client_id,
            contract_id=invoice.contract.balance_contract_id,
            date_from=started_at - _CLOCK_SLACK,
            date_to=now + _CLOCK_SLACK,
        )
    except BalanceError as e:
        raise translate(e, "looking the invoice up") from e
    matching = {i.invoice_id: i for i in found if i.kind == InvoiceKind.PREPAY and i.amount == invoice.amount}
    taken = set(
        Invoice.objects.filter(balance_invoice_id__in=list(matching)).values_list("balance_invoice_id", flat=True)
    )
    candidates = [i for i in matching if i not in taken]
    adopted = adopt_or_flag(
        invoice,
        candidates=candidates,
        started_field="invoice_call_started_at",
        what="prepay invoices of this amount",
        call="CreateInvoice",
        now=now,
    )
    if adopted is None:
        return
    found_invoice = matching[adopted]
    _record(invoice, balance_invoice_id=adopted, number=found_invoice.external_id, url=found_invoice.url or "", now=now)


def _record(invoice: Invoice, *, balance_invoice_id: int, number: str, url: str, now: dt.datetime) -> None:
    update_row(
        invoice,
        status=Invoice.Status.ISSUED,
        balance_invoice_id=balance_invoice_id,
        number=number,
        payment_url=url,
        invoice_call_started_at=None,
        attention_reason="",
        updated_at=now,
    )
