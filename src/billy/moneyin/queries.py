"""Reads of invoices, credit transfers, and the wallet orders the janitor polls."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q

from billy.clients.models import Client
from billy.core.errors import BillyError
from billy.core.pagination import check_limit, decode_id_cursor, encode_id_cursor
from billy.payers.models import Contract
from billy.payers.queries import could_be_id

from .models import CreditTransfer, Invoice

# An order with money booked this recently is polled: a notification of what came next may be lost.
RECENT_ACTIVITY = dt.timedelta(days=1)


class InvoiceNotFound(BillyError):
    code = "invoice_not_found"
    default_message = "The client has no invoice with this invoice_id."


class CreditTransferNotFound(BillyError):
    code = "credit_transfer_not_found"
    default_message = "The client has no credit transfer with this transfer_id."


def get_invoice(*, client: Client, invoice_id: str) -> Invoice:
    invoice = None
    if could_be_id(invoice_id):
        invoice = (
            Invoice.objects.select_related("payer", "contract").filter(client=client, invoice_id=invoice_id).first()
        )
    if invoice is None:
        raise InvoiceNotFound(details={"invoice_id": invoice_id[:128]})
    return invoice


def list_invoices(
    *, client: Client, limit: int, cursor: str | None, kind: str | None = None, status: str | None = None
) -> tuple[list[Invoice], str | None]:
    """The client's invoices, newest first, filtered by kind and status, and the next page's cursor."""
    check_limit(limit)
    rows = Invoice.objects.select_related("payer", "contract").filter(client=client)
    if kind:
        rows = rows.filter(kind=kind)
    if status:
        rows = rows.filter(status=status)
    after = decode_id_cursor(cursor)
    if after is not None:
        rows = rows.filter(id__lt=after)
    page = list(rows.order_by("-id")[: limit + 1])
    return page[:limit], (encode_id_cursor(page[limit - 1].id) if len(page) > limit else None)


def get_credit_transfer(*, client: Client, transfer_id: str) -> CreditTransfer:
    transfer = None
    if could_be_id(transfer_id):
        transfer = CreditTransfer.objects.filter(client=client, transfer_id=transfer_id).first()
    if transfer is None:
        raise CreditTransferNotFound(details={"transfer_id": transfer_id[:128]})
    return transfer


def orders_to_poll(*, now: dt.datetime) -> list[int]:
    """Active contracts whose wallet order may hold money billy has not heard of: open prepay
    invoices, postpay contracts (credit and its repayment), money booked or bound recently."""
    open_invoice = Invoice.objects.filter(
        contract=OuterRef("pk"), status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID]
    )
    recent = now - RECENT_ACTIVITY
    return list(
        Contract.objects.filter(status=Contract.Status.ACTIVE)
        .filter(
            Exists(open_invoice)
            | Q(payment_type=Contract.PaymentType.POSTPAY)
            | Q(last_booked_at__gte=recent)
            | Q(bound_at__gte=recent)
        )
        .order_by("last_booked_at")
        .values_list("pk", flat=True)
    )


def stalled_invoices(*, untouched_since: dt.datetime) -> list[int]:
    return list(
        Invoice.objects.filter(status=Invoice.Status.PENDING, updated_at__lt=untouched_since).values_list(
            "pk", flat=True
        )
    )


def stalled_credit_transfers(*, untouched_since: dt.datetime) -> list[int]:
    return list(
        CreditTransfer.objects.filter(status=CreditTransfer.Status.PENDING, updated_at__lt=untouched_since).values_list(
            "pk", flat=True
        )
    )
