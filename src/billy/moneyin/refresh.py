"""Re-reading a wallet order from Balance: its totals (booked through `booking`), the statuses of
the client's invoices on the contract, the credit invoices Balance formed, and the credit used.

Every trigger calls `refresh_wallet_order`: a stored notification's job, the janitor's poll, a
credit transfer Balance confirmed, an operator's "re-read from Balance"."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Sum

from billy.core.locks import session_lock
from billy.integrations.balance.port import Balance, BalanceError, InvoiceKind, InvoiceStatus
from billy.ledger.postings import get_or_create_wallet, set_credit_figures
from billy.payers.models import Contract
from billy.payers.upstream import translate

from .booking import Booked, book_order
from .models import CreditTransfer, Invoice

logger = logging.getLogger(__name__)

_CREDIT_LOCK = 0x63726564  # "cred": a contract's deposits from credit and reads of its credit used
# The client's invoices are read from a day before the contract was made to well after now: Balance
# dates a credit invoice by the last moment of the month it closes, which may be ahead of billy's clock.
_INVOICE_WINDOW_BEFORE = dt.timedelta(days=1)
_INVOICE_WINDOW_AFTER = dt.timedelta(days=62)
_STATUS = {
    InvoiceStatus.UNPAID: Invoice.Status.ISSUED,
    InvoiceStatus.PARTIALLY_PAID: Invoice.Status.PARTIALLY_PAID,
    InvoiceStatus.PAID: Invoice.Status.PAID,
}


def credit_lock(contract_pk: int):
    """Serialise a contract's deposits from credit with reads of its credit used, across processes."""
    return session_lock(_CREDIT_LOCK, contract_pk)


def refresh_wallet_order(*, contract_pk: int, balance: Balance, now: dt.datetime) -> Booked:
    """Re-read the contract's wallet order and book what is new; then its invoices and credit.

    Raises UpstreamUnavailable or UpstreamError when Balance does not answer (nothing booked)."""
    contract = Contract.objects.select_related("client__workspace", "payer").get(pk=contract_pk)
    if contract.status != Contract.Status.ACTIVE:
        return Booked(0, 0)
    try:
        (info,) = balance.get_orders_info([contract.wallet_order_id])
    except BalanceError as e:
        raise translate(e, "reading the wallet order") from e
    booked = book_order(contract_pk=contract_pk, info=info, now=now)
    try:
        sync_invoices(contract, balance=balance, now=now)
        if contract.payment_type == Contract.PaymentType.POSTPAY:
            sync_credit_used(contract, balance=balance, now=now)
    except BalanceError as e:  # the money is booked; the rest waits for the next read
        logger.warning("contract %s: invoices or credit not re-read: %s", contract_pk, e)
    return booked


def sync_invoices(contract: Contract, *, balance: Balance, now: dt.datetime) -> None:
    """Each invoice of the contract as Balance shows it: paid amounts and statuses, and the credit
    invoices Balance formed at a month close (named `balance-<Balance's id>`)."""
    found = balance.get_client_invoices(
        client_id=contract.client.balance_client_id,
        contract_id=contract.balance_contract_id,
        date_from=contract.created_at - _INVOICE_WINDOW_BEFORE,
        date_to=now + _INVOICE_WINDOW_AFTER,
    )
    credit = [i for i in found if i.kind == InvoiceKind.CREDIT]
    if credit:
        Invoice.objects.bulk_create(
            [
                Invoice(
                    workspace_id=contract.workspace_id,
                    client_id=contract.client_id,
                    contract=contract,
                    payer_id=contract.payer_id,
                    invoice_id=f"balance-{i.invoice_id}",
                    kind=Invoice.Kind.CREDIT,
                    amount=i.amount,
                    currency=i.currency,
                    status=_STATUS[i.status],
                    balance_invoice_id=i.invoice_id,
                    number=i.external_id,
                    payment_url=i.url or "",
                    created_at=now,
                    updated_at=now,
                )
                for i in credit
            ],
            ignore_conflicts=True,
        )
    for i in found:
        Invoice.objects.filter(balance_invoice_id=i.invoice_id, contract=contract).exclude(
            paid_amount=i.paid_amount, status=_STATUS[i.status]
        ).exclude(status=Invoice.Status.NEEDS_ATTENTION).update(
            paid_amount=i.paid_amount, status=_STATUS[i.status], updated_at=now
        )


def sync_credit_used(contract: Contract, *, balance: Balance, now: dt.datetime) -> None:
    """The wallet's credit used: Balance's (lowered when a credit invoice is repaid, never adding
    money), plus what billy has reserved for transfers not yet settled."""
    with credit_lock(contract.pk):
        account = balance.get_personal_account(contract_id=contract.balance_contract_id)
        with transaction.atomic():
            in_flight = (
                CreditTransfer.objects.filter(contract=contract, status=CreditTransfer.Status.PENDING).aggregate(
                    s=Sum("amount")
                )["s"]
                or 0
            )
            wallet = get_or_create_wallet(client=contract.client, now=now)
            set_credit_figures(wallet_id=wallet.pk, credit_used=account.credit_used + in_flight)
