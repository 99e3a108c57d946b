"""Writes for contracts: accept an offer in Balance (CreateOffer, write first), change its credit
limit or term (UpdateContract), and bind the client's wallet to the wallet order of the personal
account Balance opens for it (GetPersonalAccount, retried by a job while it is not ready)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from billy.clients.models import Client
from billy.core.errors import IdempotencyConflict, InvalidState, ValidationFailed
from billy.core.locks import session_lock
from billy.core.tasks import defer
from billy.core.validation import check_id
from billy.core.write_first import NeedsAttention, adopt_or_flag, update_row
from billy.integrations.balance.port import (
    Balance,
    BalanceCode,
    BalanceError,
    BalanceFault,
    BalanceOutcomeUnknown,
    ContractChange,
    OfferData,
    PaymentType,
)
from billy.ledger.postings import get_or_create_wallet, set_credit_figures

from .errors import ContractExists, PayerNotFound
from .models import Contract, Payer
from .upstream import require_autocommit, require_registered, translate

logger = logging.getLogger(__name__)

_CONTRACT_LOCK = 0x636E7472  # "cntr": work on one contract, across processes
MAX_PAYMENT_TERM_DAYS = 365


@dataclass(frozen=True)
class ContractTerms:
    payer_id: str
    payment_type: str
    start_date: dt.date
    currency: str | None = None  # the workspace's when not given
    credit_limit: int | None = None  # postpay only
    payment_term_days: int | None = None  # postpay only


@dataclass(frozen=True)
class ContractResult:
    contract: Contract
    created: bool  # this call created the contract in Balance


def put_contract(
    *, client: Client, contract_id: str, terms: ContractTerms, balance: Balance, now: dt.datetime
) -> ContractResult:
    """Create the client's contract in Balance, or change its credit limit or payment term; the same
    terms again call nothing. The contract is ACTIVE once its wallet order is bound (at once, or by
    a job while Balance opens the personal account).

    Commits as it goes. Raises ValidationFailed, PayerNotFound, InvalidState (the client or payer is
    not in Balance yet), ContractExists (another contract in this currency), IdempotencyConflict
    (the contract_id with another payer, payment type, currency or start date), NeedsAttention,
    UpstreamUnavailable, UpstreamRejected, UpstreamError.
    """
    require_autocommit("put_contract")
    terms = _validate(client=client, contract_id=contract_id, terms=terms)
    require_registered(client)
    payer = Payer.objects.filter(client=client, payer_id=terms.payer_id).first()
    if payer is None:
        raise PayerNotFound(details={"payer_id": terms.payer_id})
    if payer.status != Payer.Status.ACTIVE:
        raise InvalidState(
            "The payer is not in Balance yet; repeat PUT of the payer.", details={"status": payer.status}
        )
    contract = _insert_or_get(client=client, contract_id=contract_id, payer=payer, terms=terms, now=now)
    with session_lock(_CONTRACT_LOCK, contract.pk):
        contract = Contract.objects.select_related("payer").get(pk=contract.pk)
        created = _advance(contract, client=client, terms=terms, balance=balance, now=now)
    return ContractResult(contract=contract, created=created)


def bind_personal_account(*, contract_pk: int, balance: Balance, now: dt.datetime) -> bool:
    """Bind the contract's wallet order to the client's wallet once Balance has opened its personal
    account; True when bound now. Raises BalanceError (PERSONAL_ACCOUNT_NOT_READY while it opens)."""
    contract = Contract.objects.select_related("client__workspace").get(pk=contract_pk)
    if contract.status != Contract.Status.PENDING or contract.balance_contract_id is None:
        return False
    account = balance.get_personal_account(contract_id=contract.balance_contract_id)
    with transaction.atomic():
        locked = Contract.objects.select_for_update(no_key=True).get(pk=contract_pk)
        if locked.status != Contract.Status.PENDING:
            return False
        wallet = get_or_create_wallet(client=contract.client, now=now)
        set_credit_figures(wallet_id=wallet.pk, credit_limit=locked.credit_limit)
        Contract.objects.filter(pk=contract_pk).update(
            status=Contract.Status.ACTIVE,
            personal_account_id=account.personal_account_id,
            personal_account_number=account.external_id,
            wallet_order_id=account.wallet_order_id,
            bound_at=now,
            updated_at=now,
        )
    logger.debug("contract %s bound to wallet order %s", contract_pk, account.wallet_order_id)
    return True


def recheck_contract_in_balance(*, contract_pk: int, balance: Balance, now: dt.datetime) -> Contract:
    """Operator: look a NEEDS_ATTENTION contract up in Balance again and adopt exactly one match."""
    with session_lock(_CONTRACT_LOCK, contract_pk):
        contract = Contract.objects.select_related("payer", "client").get(pk=contract_pk)
        if contract.status == Contract.Status.NEEDS_ATTENTION:
            _adopt_or_flag(contract, client=contract.client, balance=balance, now=now)
            _bind_now_or_later(contract, balance=balance, now=now)
        return contract


# -- internals -------------------------------------------------------------------------------


def _validate(*, client: Client, contract_id: str, terms: ContractTerms) -> ContractTerms:
    errors: dict[str, list[str]] = {}
    check_id(errors, "contract_id", contract_id)
    check_id(errors, "payer_id", terms.payer_id)
    wallet_currency = client.workspace.currency
    currency = terms.currency or wallet_currency
    if currency != wallet_currency:
        errors["currency"] = [f"The client's wallet is in {wallet_currency}: its contract is in {wallet_currency} too."]
    postpay = terms.payment_type == Contract.PaymentType.POSTPAY
    if terms.payment_type not in Contract.PaymentType.values:
        errors["payment_type"] = ["PREPAY or POSTPAY."]
    if terms.credit_limit is not None and not postpay:
        errors["credit_limit"] = ["Only a POSTPAY contract has a credit limit."]
    if postpay and terms.payment_term_days is None:
        errors["payment_term_days"] = ["A POSTPAY contract says in how many days a credit invoice is paid."]
    if terms.payment_term_days is not None:
        if not postpay:
            errors["payment_term_days"] = ["Only a POSTPAY contract has a payment term."]
        elif not 1 <= terms.payment_term_days <= MAX_PAYMENT_TERM_DAYS:
            errors["payment_term_days"] = [f"1 to {MAX_PAYMENT_TERM_DAYS} days."]
    if errors:
        raise ValidationFailed(errors)
    return ContractTerms(
        payer_id=terms.payer_id,
        payment_type=terms.payment_type,
        start_date=terms.start_date,
        currency=currency,
        credit_limit=(terms.credit_limit or 0) if postpay else 0,
        payment_term_days=terms.payment_term_days,
    )


def _insert_or_get(*, client: Client, contract_id: str, payer: Payer, terms: ContractTerms, now) -> Contract:
    contract = Contract.objects.filter(client=client, contract_id=contract_id).first()
    if contract is None:
        try:
            with transaction.atomic():
                contract = Contract.objects.create(
                    workspace_id=client.workspace_id,
                    client=client,
                    contract_id=contract_id,
                    payer=payer,
                    payment_type=terms.payment_type,
                    currency=terms.currency,
                    credit_limit=terms.credit_limit,
                    payment_term_days=terms.payment_term_days,
                    start_date=terms.start_date,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            contract = Contract.objects.filter(client=client, contract_id=contract_id).first()
            if contract is None:
                other = Contract.objects.filter(client=client, currency=terms.currency).first()
                raise ContractExists(
                    f"The client already has contract {other.contract_id if other else '?'} in {terms.currency}.",
                    details={"contract_id": other.contract_id if other else None},
                ) from None
    fixed = (contract.payer_id, contract.payment_type, contract.currency, contract.start_date)
    if fixed != (payer.pk, terms.payment_type, terms.currency, terms.start_date):
        raise IdempotencyConflict(
            f"contract_id {contract_id!r} was made with another payer, payment type, currency or start date; "
            "only the credit limit and the payment term change."
        )
    return contract


def _advance(contract: Contract, *, client: Client, terms: ContractTerms, balance: Balance, now) -> bool:
    if contract.status == Contract.Status.NEEDS_ATTENTION:
        raise NeedsAttention(contract.attention_reason or None)
    created = False
    if contract.balance_contract_id is None and contract.offer_call_started_at is not None:
        _adopt_or_flag(contract, client=client, balance=balance, now=now)
        created = contract.balance_contract_id is not None
    changed = (contract.credit_limit, contract.payment_term_days) != (terms.credit_limit, terms.payment_term_days)
    if contract.balance_contract_id is None:
        if changed:
            update_row(
                contract, credit_limit=terms.credit_limit, payment_term_days=terms.payment_term_days, updated_at=now
            )
        _create(contract, client=client, balance=balance, now=now)
        created = True
    elif changed:
        _change(contract, terms=terms, balance=balance, now=now)
    if contract.status == Contract.Status.PENDING:
        _bind_now_or_later(contract, balance=balance, now=now)
    return created


def _offer(contract: Contract, client: Client) -> OfferData:
    postpay = contract.payment_type == Contract.PaymentType.POSTPAY
    return OfferData(
        client_id=client.balance_client_id,
        person_id=contract.payer.balance_person_id,
        currency=contract.currency,
        payment_type=PaymentType(contract.payment_type),
        start_date=contract.start_date,
        credit_limit=contract.credit_limit if postpay else None,
        payment_term_days=contract.payment_term_days if postpay else None,
        external_ref=f"{client.workspace.name}/{contract.contract_id}",
        service_id=client.workspace.balance_service_id,
    )


def _create(contract: Contract, *, client: Client, balance: Balance, now) -> None:
    update_row(contract, offer_call_started_at=now, updated_at=now)  # write first
    try:
        created = balance.create_offer(_offer(contract, client))
    except BalanceOutcomeUnknown as e:
        logger.warning("CreateOffer for contract %s has an unknown outcome: %s", contract.pk, e)
        raise translate(e, "creating the contract") from e
    except BalanceError as e:
        update_row(contract, offer_call_started_at=None)
        raise translate(e, "creating the contract") from e
    _record(contract, balance_contract_id=created.contract_id, number=created.external_id, now=now)


def _change(contract: Contract, *, terms: ContractTerms, balance: Balance, now) -> None:
    postpay = contract.payment_type == Contract.PaymentType.POSTPAY
    try:  # an update: safe to repeat
        balance.update_contract(
            ContractChange(
                contract_id=contract.balance_contract_id,
                credit_limit=terms.credit_limit if postpay else None,
                payment_term_days=terms.payment_term_days,
            )
        )
    except BalanceError as e:
        raise translate(e, "changing the contract") from e
    with transaction.atomic():
        update_row(contract, credit_limit=terms.credit_limit, payment_term_days=terms.payment_term_days, updated_at=now)
        if contract.status == Contract.Status.ACTIVE:
            wallet = get_or_create_wallet(client=contract.client, now=now)
            set_credit_figures(wallet_id=wallet.pk, credit_limit=terms.credit_limit)


def _adopt_or_flag(contract: Contract, *, client: Client, balance: Balance, now) -> None:
    """After an unknown outcome: adopt the one unclaimed Balance contract of the payer with these
    terms (`billy.core.write_first`); none: create again; several: NEEDS_ATTENTION."""
    try:
        found = balance.get_client_contracts(client_id=client.balance_client_id)
    except BalanceError as e:
        raise translate(e, "looking the contract up") from e
    wanted = (contract.payer.balance_person_id, contract.payment_type, contract.currency, contract.start_date)
    matching = {c.contract_id: c for c in found if (c.person_id, c.payment_type, c.currency, c.start_date) == wanted}
    taken = set(
        Contract.objects.filter(balance_contract_id__in=list(matching)).values_list("balance_contract_id", flat=True)
    )
    candidates = [i for i in matching if i not in taken]
    adopted = adopt_or_flag(
        contract,
        candidates=candidates,
        started_field="offer_call_started_at",
        what="contracts of this payer with these terms",
        call="CreateOffer",
        now=now,
    )
    if adopted is None:
        return
    _record(contract, balance_contract_id=adopted, number=matching[adopted].external_id, now=now)


def _record(contract: Contract, *, balance_contract_id: int, number: str, now) -> None:
    with transaction.atomic():
        update_row(
            contract,
            balance_contract_id=balance_contract_id,
            number=number,
            status=Contract.Status.PENDING,
            offer_call_started_at=None,
            attention_reason="",
            updated_at=now,
        )
        # The outbox: the binding happens even if this process dies right after the commit.
        defer("billy.payers.bind_personal_account", contract_pk=contract.pk)


def _bind_now_or_later(contract: Contract, *, balance: Balance, now) -> None:
    """Try the binding at once; while Balance opens the account, the deferred job completes it."""
    if contract.balance_contract_id is None:
        return
    try:
        bind_personal_account(contract_pk=contract.pk, balance=balance, now=now)
    except BalanceFault as e:
        if e.code != BalanceCode.PERSONAL_ACCOUNT_NOT_READY:
            logger.warning("binding contract %s failed, the worker will retry: %s", contract.pk, e)
    except BalanceError as e:
        logger.warning("binding contract %s failed, the worker will retry: %s", contract.pk, e)
    contract.refresh_from_db()
