"""A transfer from the postpay contract's credit limit onto the wallet, in one call.

1. The credit is reserved in the ledger (`reserve_credit`: one guarded statement, so concurrent
   transfers can never pass the limit together) in the transaction that writes the PENDING transfer;
   over the limit: 422 with nothing written and no Balance call.
2. Under the contract's credit lock, billy reads the order's credit total, writes it and the call's
   start (write first), and calls DepositFromCredit.
3. Success: SUCCEEDED; billy re-reads the order and books the credit through the one booking path.
   A refusal: FAILED, the reservation given back. An unknown outcome: the order's credit total is
   read again; risen by the amount, the deposit happened; unchanged, it did not (once surely over);
   anything else: NEEDS_ATTENTION. Transfers of one contract call Balance one at a time, and a new one
   waits while an earlier one's outcome is unknown, so the difference is this transfer's own.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from billy.clients.models import Client
from billy.core.errors import BillyError, IdempotencyConflict, UpstreamUnavailable, ValidationFailed
from billy.core.validation import check_id
from billy.core.write_first import NeedsAttention, resolve_unknown_outcome, update_row
from billy.integrations.balance.port import (
    Balance,
    BalanceCode,
    BalanceError,
    BalanceFault,
    BalanceOutcomeUnknown,
    CreditDeposit,
)
from billy.ledger.postings import get_or_create_wallet
from billy.ledger.topups import CreditLimitExceeded, release_credit, reserve_credit
from billy.payers.models import Contract
from billy.payers.queries import active_contract
from billy.payers.upstream import require_autocommit, translate

from .models import CreditTransfer
from .refresh import credit_lock, refresh_wallet_order

logger = logging.getLogger(__name__)

MAX_TRANSFER_AMOUNT = 10**15


class ContractNotPostpay(BillyError):
    code = "contract_not_postpay"
    default_message = "The client's active contract is prepay: it has no credit limit."


@dataclass(frozen=True)
class TransferResult:
    transfer: CreditTransfer
    created: bool


def create_credit_transfer(
    *, client: Client, transfer_id: str, amount: int, balance: Balance, now: dt.datetime
) -> TransferResult:
    """Move `amount` from the client's postpay credit limit onto its wallet, named by `transfer_id`.

    A repeat with the same body answers the transfer as it is (finishing it if an earlier call
    stopped half way). Raises ValidationFailed, NoActiveContract, ContractNotPostpay,
    CreditLimitExceeded (nothing written, Balance not called), IdempotencyConflict, NeedsAttention,
    UpstreamUnavailable (repeat the call: it resumes), UpstreamRejected, UpstreamError.
    """
    require_autocommit("create_credit_transfer")
    errors: dict[str, list[str]] = {}
    check_id(errors, "transfer_id", transfer_id)
    if not 0 < amount <= MAX_TRANSFER_AMOUNT:
        errors["amount"] = ["Above zero, and at most 10,000,000,000,000.00."]
    if errors:
        raise ValidationFailed(errors)
    transfer = _existing(client, transfer_id, amount)
    created = transfer is None
    if transfer is None:
        contract = active_contract(client=client)
        if contract.payment_type != Contract.PaymentType.POSTPAY:
            raise ContractNotPostpay()
        transfer = _reserve(client=client, contract=contract, transfer_id=transfer_id, amount=amount, now=now)
        if transfer is None:  # a concurrent call with this transfer_id came first
            transfer, created = _existing(client, transfer_id, amount), False
    resume_credit_transfer(transfer_pk=transfer.pk, balance=balance, now=now)
    transfer.refresh_from_db()
    if transfer.status == CreditTransfer.Status.FAILED and created:
        raise _refusal(transfer)
    return TransferResult(transfer=transfer, created=created)


def resume_credit_transfer(*, transfer_pk: int, balance: Balance, now: dt.datetime) -> None:
    """Take a PENDING transfer as far as it goes; after success, book the credit. The janitor's too.
    Raises NeedsAttention, UpstreamUnavailable and what translating Balance's errors gives."""
    transfer = CreditTransfer.objects.select_related("contract__client__workspace").get(pk=transfer_pk)
    contract = transfer.contract
    with credit_lock(contract.pk):
        transfer.refresh_from_db()
        if transfer.status == CreditTransfer.Status.NEEDS_ATTENTION:
            raise NeedsAttention(transfer.attention_reason or None)
        if transfer.status == CreditTransfer.Status.PENDING:
            _settle_earlier(transfer, balance=balance, now=now)
            if transfer.deposit_call_started_at is not None:
                _resolve(transfer, balance=balance, now=now)
            if transfer.status == CreditTransfer.Status.PENDING:
                _deposit(transfer, balance=balance, now=now)
            if transfer.status == CreditTransfer.Status.NEEDS_ATTENTION:
                raise NeedsAttention(transfer.attention_reason)
    if transfer.status == CreditTransfer.Status.SUCCEEDED:
        try:
            refresh_wallet_order(contract_pk=contract.pk, balance=balance, now=now)
        except BillyError as e:  # booked later by a notification or the janitor
            logger.warning("credit transfer %s: the order is not re-read yet: %s", transfer.pk, e.message)


# -- internals -------------------------------------------------------------------------------


def _existing(client: Client, transfer_id: str, amount: int) -> CreditTransfer | None:
    transfer = CreditTransfer.objects.filter(workspace_id=client.workspace_id, transfer_id=transfer_id).first()
    if transfer is not None and (transfer.client_id, transfer.amount) != (client.pk, amount):
        raise IdempotencyConflict(f"transfer_id {transfer_id!r} was already used with another body.")
    return transfer


def _reserve(*, client: Client, contract: Contract, transfer_id: str, amount: int, now) -> CreditTransfer | None:
    try:
        with transaction.atomic():
            wallet = get_or_create_wallet(client=client, now=now)
            reserve_credit(wallet_id=wallet.pk, amount=amount)
            return CreditTransfer.objects.create(
                workspace_id=client.workspace_id,
                client=client,
                contract=contract,
                transfer_id=transfer_id,
                amount=amount,
                currency=contract.currency,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        return None


def _settle_earlier(transfer: CreditTransfer, *, balance: Balance, now) -> None:
    """Resolve the contract's earlier transfers whose outcome is unknown; while one stays unknown,
    no other deposit is asked for (its credit total could not be told apart)."""
    earlier = CreditTransfer.objects.filter(
        contract_id=transfer.contract_id, status=CreditTransfer.Status.PENDING, deposit_call_started_at__isnull=False
    ).exclude(pk=transfer.pk)
    for other in earlier:
        _resolve(other, balance=balance, now=now)
        if other.status == CreditTransfer.Status.PENDING and other.deposit_call_started_at is not None:
            raise UpstreamUnavailable(
                "An earlier transfer's outcome is not known yet; retry later.",
                retry_after=settings.BILLY_RETRY_AFTER_SECONDS,
            )


def _credit_total(transfer: CreditTransfer, balance: Balance) -> int:
    try:
        return balance.get_personal_account(contract_id=transfer.contract.balance_contract_id).credit_total
    except BalanceError as e:
        raise translate(e, "reading the credit") from e


def _deposit(transfer: CreditTransfer, *, balance: Balance, now) -> None:
    contract = transfer.contract
    before = _credit_total(transfer, balance)
    update_row(transfer, deposit_call_started_at=now, credit_total_before=before, updated_at=now)  # write first
    try:
        result = balance.deposit_from_credit(
            CreditDeposit(
                contract_id=contract.balance_contract_id,
                order_id=contract.wallet_order_id,
                amount=transfer.amount,
                currency=transfer.currency,
                external_ref=f"{contract.client.workspace.name}/{transfer.transfer_id}",
            )
        )
    except BalanceOutcomeUnknown as e:
        logger.warning("DepositFromCredit for transfer %s has an unknown outcome: %s", transfer.pk, e)
        _resolve(transfer, balance=balance, now=now)
        if transfer.status == CreditTransfer.Status.PENDING:
            raise translate(e, "moving the credit") from e
        return
    except BalanceFault as e:
        _fail(transfer, code=e.code, now=now)
        return
    except BalanceError as e:
        update_row(transfer, deposit_call_started_at=None, credit_total_before=None)  # it took no effect
        raise translate(e, "moving the credit") from e
    update_row(
        transfer,
        status=CreditTransfer.Status.SUCCEEDED,
        balance_invoice_id=result.invoice_id,
        deposit_call_started_at=None,
        updated_at=now,
    )


def _resolve(transfer: CreditTransfer, *, balance: Balance, now) -> None:
    """After an unknown outcome: the order's credit total now tells whether the deposit happened."""
    grown = _credit_total(transfer, balance) - transfer.credit_total_before
    if grown == transfer.amount:
        logger.info("credit transfer %s: the deposit happened (read back)", transfer.pk)
        update_row(transfer, status=CreditTransfer.Status.SUCCEEDED, deposit_call_started_at=None, updated_at=now)
        return
    if grown == 0:
        try:
            resolve_unknown_outcome(candidates=[], started_at=transfer.deposit_call_started_at, now=now)
        except UpstreamUnavailable:
            return  # an answer may still be on its way: stays PENDING with the call in flight
        update_row(
            transfer, deposit_call_started_at=None, credit_total_before=None, updated_at=now
        )  # it did not happen
        return
    reason = (
        f"A DepositFromCredit of {transfer.amount} kopecks sent at {transfer.deposit_call_started_at:%Y-%m-%d %H:%M:%S}"
        f" UTC had an unknown outcome, and the order's credit total has since grown by {grown} kopecks. "
        "Check the deposits in Balance, then mark the transfer succeeded or failed."
    )
    update_row(transfer, status=CreditTransfer.Status.NEEDS_ATTENTION, attention_reason=reason, updated_at=now)


def _fail(transfer: CreditTransfer, *, code: str, now) -> None:
    with transaction.atomic():
        update_row(
            transfer,
            status=CreditTransfer.Status.FAILED,
            failure_code=code,
            deposit_call_started_at=None,
            updated_at=now,
        )
        wallet = get_or_create_wallet(client=transfer.contract.client, now=now)
        release_credit(wallet_id=wallet.pk, amount=transfer.amount)


def _refusal(transfer: CreditTransfer) -> BillyError:
    if transfer.failure_code == BalanceCode.CREDIT_LIMIT_EXCEEDED:
        return CreditLimitExceeded("Balance refused: the contract's credit limit does not have the amount.")
    return translate(BalanceFault(transfer.failure_code, "the deposit was refused"), "moving the credit")


def settle_credit_transfer(*, transfer_pk: int, succeeded: bool, now: dt.datetime) -> CreditTransfer:
    """Operator: after checking Balance, mark a NEEDS_ATTENTION transfer succeeded (the credit is
    booked by the next read of the order) or failed (its reservation is given back)."""
    transfer = CreditTransfer.objects.select_related("contract__client").get(pk=transfer_pk)
    if transfer.status != CreditTransfer.Status.NEEDS_ATTENTION:
        return transfer
    if succeeded:
        update_row(transfer, status=CreditTransfer.Status.SUCCEEDED, attention_reason="", updated_at=now)
    else:
        _fail(transfer, code="OPERATOR", now=now)
    return transfer
