"""Writes for charges: create (complete or hold), confirm, cancel, expire, refund.

Each runs in one database transaction: the charge row, the wallet's figures (one conditional
UPDATE that also takes the wallet's row lock), the ledger transaction and the event commit or
roll back together. The consumer's `charge_id` / `refund_id` is claimed by a unique key before any
money moves, so concurrent repeats wait for the first and then see it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

from django.db import IntegrityError, connection, transaction

from billy.clients.models import Client
from billy.core.errors import BillyError, IdempotencyConflict, InvalidState, ValidationFailed
from billy.core.money import format_amount
from billy.core.validation import check_text, is_printable_text
from billy.events.operations import append_event
from billy.ledger.models import Account, LedgerTransaction
from billy.ledger.operations import (
    InsufficientFunds,
    get_or_create_wallet,
    lock_wallets,
    move_wallet,
    post_transaction,
    system_account,
)
from billy.workspaces.models import Workspace

from .models import Charge, Refund

DEFAULT_HOLD_TTL_SECONDS = 7 * 24 * 3600
MAX_HOLD_TTL_SECONDS = 90 * 24 * 3600
MIN_HOLD_TTL_SECONDS = 60


class ChargeNotFound(BillyError):
    code = "charge_not_found"
    default_message = "No such charge."


class CurrencyMismatch(BillyError):
    code = "currency_mismatch"
    default_message = "The currency is not the wallet's."


class RefundExceedsCharge(BillyError):
    code = "refund_exceeds_charge"
    default_message = "Refunds would exceed what was charged."


@dataclass(frozen=True)
class ChargeRequest:
    charge_id: str
    product: str
    amount: int
    currency: str | None = None
    hold: bool = False
    hold_ttl_seconds: int | None = None
    description: str = ""


def validate_charge_request(request: ChargeRequest) -> None:
    """Raises ValidationFailed listing every invalid field."""
    errors: dict[str, list[str]] = {}
    check_text(errors, "charge_id", request.charge_id, max_length=128)
    check_text(errors, "product", request.product, max_length=128)
    check_text(errors, "description", request.description, max_length=512, required=False)
    if request.amount <= 0:
        errors.setdefault("amount", []).append("Must be greater than zero.")
    if request.hold_ttl_seconds is not None:
        if not request.hold:
            errors.setdefault("hold_ttl_seconds", []).append("Only for a hold.")
        elif not MIN_HOLD_TTL_SECONDS <= request.hold_ttl_seconds <= MAX_HOLD_TTL_SECONDS:
            errors.setdefault("hold_ttl_seconds", []).append(
                f"Between {MIN_HOLD_TTL_SECONDS} and {MAX_HOLD_TTL_SECONDS} seconds."
            )
    if errors:
        raise ValidationFailed(errors)


def _facts(charge: Charge, client: Client, now: dt.datetime, **extra) -> dict:
    """What an event says: who bought what, for how much, when. Never more."""
    return {
        "charge_id": charge.charge_id,
        "client": client.service_client_id,
        "product": charge.product,
        "amount": format_amount(charge.amount),
        "currency": charge.currency,
        "at": now.isoformat(),
        **extra,
    }


def created_facts(charge: Charge, now: dt.datetime) -> dict:
    """The event of a new charge (`charge.completed`, or `charge.held` with its expiry)."""
    extra = {"expires_at": charge.hold_expires_at.isoformat()} if charge.hold_expires_at else {}
    return _facts(charge, charge.client, now, **extra)


def charge_terms(*, client: Client, request: ChargeRequest, currency: str) -> tuple[int | None, dict]:
    """The hold TTL in effect, and the body as billy understands it: a repeat must match it."""
    ttl = (request.hold_ttl_seconds or DEFAULT_HOLD_TTL_SECONDS) if request.hold else None
    return ttl, {**asdict(request), "client_id": client.pk, "currency": currency, "hold_ttl_seconds": ttl}


def _revenue(workspace_id: int, currency: str, now: dt.datetime) -> Account:
    return system_account(workspace_id=workspace_id, kind=Account.Kind.REVENUE, currency=currency, now=now)


def post_charge(*, client: Client, request: ChargeRequest, now: dt.datetime) -> tuple[Charge, bool]:
    """Charge the client's wallet (or hold the money); returns (charge, created).

    Raises ValidationFailed, CurrencyMismatch, InsufficientFunds (nothing written),
    IdempotencyConflict (the charge_id was used with another body).
    """
    validate_charge_request(request)
    wallet = get_or_create_wallet(client=client, now=now)
    currency = request.currency or wallet.currency
    if currency != wallet.currency:
        raise CurrencyMismatch(
            f"The wallet holds {wallet.currency}, not {currency}.", details={"wallet_currency": wallet.currency}
        )
    ttl = (request.hold_ttl_seconds or DEFAULT_HOLD_TTL_SECONDS) if request.hold else None
    fingerprint = {**asdict(request), "client_id": client.pk, "currency": currency, "hold_ttl_seconds": ttl}
    try:
        charge = _insert_charge(
            client=client, wallet=wallet, request=request, ttl=ttl, fingerprint=fingerprint, now=now
        )
    except IntegrityError:
        charge = None  # the charge_id is taken: a repeat, or a conflict
    if charge is not None:
        return charge, True
    existing = Charge.objects.filter(workspace_id=client.workspace_id, charge_id=request.charge_id).first()
    if existing is None:
        raise InsufficientFunds(
            f"The wallet has less than {format_amount(request.amount)} {wallet.currency} available.",
            details={"amount": format_amount(request.amount), "currency": wallet.currency},
        )
    if existing.request != fingerprint:
        raise IdempotencyConflict(f"charge_id {request.charge_id!r} was already used with another body.")
    return existing, False


# One statement, so one round trip and the shortest possible hold on the wallet's row: the
# conditional UPDATE takes the wallet (and checks the money); every insert reads from it, so
# nothing is written when the money is not there; a taken charge_id aborts the whole statement.
_CHARGE_SQL = """
WITH wallet AS (
    UPDATE ledger_account
       SET balance = balance - %(debit)s, held = held + %(hold_amount)s,
           net_consumption = net_consumption + %(debit)s
     WHERE id = %(wallet)s AND balance - held >= %(amount)s
    RETURNING id
), tx AS (
    INSERT INTO ledger_transaction (workspace_id, kind, description, created_at)
    SELECT %(workspace)s, 'CHARGE', %(product)s, %(now)s FROM wallet WHERE NOT %(hold)s
    RETURNING id
), inserted AS (
    INSERT INTO charge (workspace_id, charge_id, client_id, wallet_id, product, amount, currency, hold, status,
                        captured, refunded, description, hold_expires_at, cancel_reason, transaction_id, request,
                        created_at, updated_at)
    SELECT %(workspace)s, %(charge_id)s, %(client)s, wallet.id, %(product)s, %(amount)s, %(currency)s, %(hold)s,
           %(status)s, %(debit)s, 0, %(description)s, %(expires_at)s, '', (SELECT id FROM tx), %(request)s::jsonb,
           %(now)s, %(now)s
      FROM wallet
    RETURNING id, transaction_id
), entries AS (
    INSERT INTO ledger_entry (transaction_id, account_id, amount, currency, created_at)
    SELECT tx.id, leg.account, leg.amount, %(currency)s, %(now)s
      FROM tx, (VALUES (%(wallet)s::bigint, -%(amount)s::bigint), (%(revenue)s::bigint, %(amount)s::bigint))
           AS leg(account, amount)
), appended AS (
    INSERT INTO event (workspace_id, type, data, created_at)
    SELECT %(workspace)s, %(event_type)s, %(event)s::jsonb, %(now)s FROM wallet
)
SELECT id, transaction_id FROM inserted
"""


def _insert_charge(
    *, client: Client, wallet: Account, request: ChargeRequest, ttl: int | None, fingerprint: dict, now: dt.datetime
) -> Charge | None:
    """The new charge, or None when the wallet lacks the money. IntegrityError: charge_id taken."""
    expires_at = now + dt.timedelta(seconds=ttl) if ttl else None
    status = Charge.Status.HELD if request.hold else Charge.Status.COMPLETED
    charge = Charge(
        workspace_id=client.workspace_id,
        charge_id=request.charge_id,
        client=client,
        wallet=wallet,
        product=request.product,
        amount=request.amount,
        currency=wallet.currency,
        hold=request.hold,
        status=status,
        captured=0 if request.hold else request.amount,
        description=request.description,
        hold_expires_at=expires_at,
        request=fingerprint,
        created_at=now,
        updated_at=now,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _CHARGE_SQL,
            {
                "workspace": client.workspace_id,
                "wallet": wallet.pk,
                "revenue": _revenue(client.workspace_id, wallet.currency, now).pk,
                "client": client.pk,
                "charge_id": request.charge_id,
                "product": request.product,
                "amount": request.amount,
                "debit": 0 if request.hold else request.amount,
                "hold_amount": request.amount if request.hold else 0,
                "hold": request.hold,
                "status": status,
                "currency": wallet.currency,
                "description": request.description,
                "expires_at": expires_at,
                "request": json.dumps(fingerprint),
                "now": now,
                "event_type": "charge.held" if request.hold else "charge.completed",
                "event": json.dumps(created_facts(charge, now)),
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    charge.pk, charge.transaction_id = row
    charge._state.adding, charge._state.db = False, "default"
    return charge


def _locked_charge(workspace: Workspace, charge_id: str) -> Charge:
    charge = None
    if charge_id and len(charge_id) <= 128 and is_printable_text(charge_id):
        charge = (
            Charge.objects.select_for_update(of=("self",))
            .select_related("client")
            .filter(workspace=workspace, charge_id=charge_id)
            .first()
        )
    if charge is None:
        raise ChargeNotFound(f"No charge {charge_id!r} in workspace {workspace.name!r}.")
    return charge


def confirm_charge(*, workspace: Workspace, charge_id: str, amount: int | None, now: dt.datetime) -> Charge:
    """Charge a held amount, or less (the rest is released). A repeat returns the charge.

    Raises ChargeNotFound, ValidationFailed (amount not in 1..held), InvalidState (also for a hold
    past its TTL: it is released as EXPIRED, whether or not the expiry job has run yet).
    """
    if amount is not None and amount <= 0:
        raise ValidationFailed({"amount": ["Must be greater than zero."]})
    with transaction.atomic():
        charge = _locked_charge(workspace, charge_id)
        target = charge.amount if amount is None else amount
        if charge.status == Charge.Status.COMPLETED and charge.hold and charge.captured == target:
            return charge
        expired = charge.status == Charge.Status.HELD and charge.hold_expires_at <= now
        if expired:
            _release(charge, reason=Charge.CancelReason.EXPIRED, now=now)
        elif charge.status != Charge.Status.HELD:
            raise InvalidState(f"Charge {charge_id!r} is {charge.status}; only a HELD charge can be confirmed.")
        elif target > charge.amount:
            raise ValidationFailed({"amount": [f"At most the held {format_amount(charge.amount)}."]})
        else:
            if (
                move_wallet(wallet_id=charge.wallet_id, balance=-target, held=-charge.amount, consumption=target)
                is None
            ):
                raise InsufficientFunds("The wallet no longer covers the hold.")  # the CHECK makes this unreachable
            charge.transaction = post_transaction(
                workspace_id=workspace.pk,
                kind=LedgerTransaction.Kind.CHARGE,
                currency=charge.currency,
                legs=[(charge.wallet_id, -target), (_revenue(workspace.pk, charge.currency, now).pk, target)],
                description=charge.product,
                now=now,
            )
            charge.status, charge.captured, charge.updated_at = Charge.Status.COMPLETED, target, now
            charge.save(update_fields=["transaction", "status", "captured", "updated_at"])
            append_event(
                workspace_id=workspace.pk,
                type="charge.confirmed",
                data=_facts(
                    charge,
                    charge.client,
                    now,
                    amount=format_amount(target),
                    released=format_amount(charge.amount - target),
                ),
                now=now,
            )
            return charge
    # The release above is committed; the confirmation is refused.
    raise InvalidState(f"Charge {charge_id!r} expired at {charge.hold_expires_at.isoformat()}; it was released.")


def cancel_charge(
    *, workspace: Workspace, charge_id: str, now: dt.datetime, reason: str = Charge.CancelReason.REQUESTED
) -> Charge:
    """Release a hold. A repeat returns the charge. Raises ChargeNotFound, InvalidState."""
    with transaction.atomic():
        charge = _locked_charge(workspace, charge_id)
        if charge.status == Charge.Status.CANCELLED:
            return charge
        if charge.status != Charge.Status.HELD:
            raise InvalidState(f"Charge {charge_id!r} is {charge.status}; only a HELD charge can be cancelled.")
        _release(charge, reason=reason, now=now)
        return charge


def _release(charge: Charge, *, reason: str, now: dt.datetime) -> None:
    move_wallet(wallet_id=charge.wallet_id, held=-charge.amount)
    charge.status, charge.cancel_reason, charge.updated_at = Charge.Status.CANCELLED, reason, now
    charge.save(update_fields=["status", "cancel_reason", "updated_at"])
    append_event(
        workspace_id=charge.workspace_id,
        type="charge.cancelled",
        data=_facts(charge, charge.client, now, released=format_amount(charge.amount), reason=reason),
        now=now,
    )


def expire_holds(*, now: dt.datetime, limit: int = 500) -> int:
    """Cancel holds past their TTL (as EXPIRED); returns how many. Skips holds being changed now."""
    expired = 0
    with transaction.atomic():
        charges = list(
            Charge.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("client")
            .filter(status=Charge.Status.HELD, hold_expires_at__lte=now)
            .order_by("hold_expires_at")[:limit]
        )
        # Wallets in id order, as every other multi-wallet writer takes them: no deadlock.
        lock_wallets(sorted({c.wallet_id for c in charges}))
        for charge in charges:
            _release(charge, reason=Charge.CancelReason.EXPIRED, now=now)
            expired += 1
    return expired


def refund_charge(
    *,
    workspace: Workspace,
    charge_id: str,
    refund_id: str,
    amount: int | None,
    reason: str,
    now: dt.datetime,
) -> tuple[Refund, bool]:
    """Refund all that is left of a completed charge, or `amount` of it; returns (refund, created).

    Raises ValidationFailed, ChargeNotFound, InvalidState, RefundExceedsCharge, IdempotencyConflict.
    """
    errors: dict[str, list[str]] = {}
    check_text(errors, "refund_id", refund_id, max_length=128)
    check_text(errors, "reason", reason, max_length=512, required=False)
    if amount is not None and amount <= 0:
        errors.setdefault("amount", []).append("Must be greater than zero.")
    if errors:
        raise ValidationFailed(errors)
    fingerprint = {"charge_id": charge_id, "amount": amount, "reason": reason}
    try:
        with transaction.atomic():
            charge = _locked_charge(workspace, charge_id)
            existing = Refund.objects.filter(workspace=workspace, refund_id=refund_id).first()
            if existing is None:
                return _create_refund(
                    charge, refund_id=refund_id, amount=amount, reason=reason, fingerprint=fingerprint, now=now
                ), True
    except IntegrityError:
        existing = Refund.objects.filter(workspace=workspace, refund_id=refund_id).first()
        if existing is None:
            raise
    if existing.request != fingerprint:
        raise IdempotencyConflict(f"refund_id {refund_id!r} was already used with another body.")
    return existing, False


def _create_refund(
    charge: Charge, *, refund_id: str, amount: int | None, reason: str, fingerprint: dict, now: dt.datetime
) -> Refund:
    if charge.status != Charge.Status.COMPLETED:
        raise InvalidState(f"Charge {charge.charge_id!r} is {charge.status}; only a COMPLETED charge is refunded.")
    refund_amount = charge.refundable if amount is None else amount
    if refund_amount <= 0 or refund_amount > charge.refundable:
        raise RefundExceedsCharge(
            f"Charge {charge.charge_id!r} has {format_amount(charge.refundable)} left to refund.",
            details={"refundable": format_amount(charge.refundable)},
        )
    revenue = _revenue(charge.workspace_id, charge.currency, now)
    ledger_transaction = post_transaction(
        workspace_id=charge.workspace_id,
        kind=LedgerTransaction.Kind.REFUND,
        currency=charge.currency,
        legs=[(charge.wallet_id, refund_amount), (revenue.pk, -refund_amount)],
        description=reason or charge.product,
        now=now,
    )
    refund = Refund.objects.create(
        workspace_id=charge.workspace_id,
        refund_id=refund_id,
        charge=charge,
        amount=refund_amount,
        reason=reason,
        transaction=ledger_transaction,
        request=fingerprint,
        created_at=now,
    )
    move_wallet(wallet_id=charge.wallet_id, balance=refund_amount, consumption=-refund_amount)
    charge.refunded += refund_amount
    charge.updated_at = now
    charge.save(update_fields=["refunded", "updated_at"])
    append_event(
        workspace_id=charge.workspace_id,
        type="charge.refunded",
        data=_facts(charge, charge.client, now, refund_id=refund_id, refunded=format_amount(refund_amount)),
        now=now,
    )
    return refund
