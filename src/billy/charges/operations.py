"""Writes for charges: create (complete or hold), confirm, cancel, expire, refund.

Each runs in one database transaction: the charge row, the wallet's figures (one conditional
UPDATE that also takes the wallet's row lock), the ledger transaction and the event commit or
roll back together. A new charge claims its `charge_id` by a unique key in the statement that
moves the money, so concurrent repeats wait for the first and then see it; a refund is made under
the charge's row lock, and a `refund_id` taken meanwhile rolls the whole refund back.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from billy.clients.models import Client
from billy.core.errors import BillyError, IdempotencyConflict, InvalidState, ValidationFailed
from billy.core.money import format_amount, is_currency
from billy.core.postgresql import prepared_cursor
from billy.core.timestamps import format_timestamp
from billy.core.validation import check_id, check_metadata, check_text, is_printable_text
from billy.events import registry
from billy.events.registry import NewEvent
from billy.ledger.models import Account, LedgerTransaction
from billy.ledger.postings import (
    InsufficientFunds,
    Movement,
    get_or_create_wallet,
    lock_wallets,
    post_movement,
    spend_params,
    spend_statement,
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
    metadata: dict[str, str] = field(default_factory=dict)


def validate_charge_request(request: ChargeRequest) -> None:
    """Raises ValidationFailed listing every invalid field."""
    errors: dict[str, list[str]] = {}
    check_id(errors, "charge_id", request.charge_id)
    check_text(errors, "product", request.product, max_length=128)
    if request.currency is not None and not is_currency(request.currency):
        errors.setdefault("currency", []).append("An ISO 4217 code, e.g. RUB; omit it for the wallet's.")
    check_text(errors, "description", request.description, max_length=512, required=False)
    check_metadata(errors, "metadata", request.metadata)
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


def charge_event(charge: Charge, event_type: registry.EventType, *, now: dt.datetime, **extra) -> NewEvent:
    """What an event of a charge says: who bought what, for how much (`amount`: what this event
    moved, the charge's amount unless `extra` says otherwise), when, and the consumer's metadata."""
    facts = {
        "charge_id": charge.charge_id,
        "client": charge.client.service_client_id,
        "product": charge.product,
        "amount": format_amount(charge.amount),
        "currency": charge.currency,
        "at": format_timestamp(now),
        "metadata": charge.metadata,
    }
    return event_type.build(**(facts | extra))


def created_event(charge: Charge, now: dt.datetime) -> NewEvent:
    """The event of a new charge: `charge.completed`, or `charge.held` with its expiry."""
    if charge.hold:
        return charge_event(charge, registry.CHARGE_HELD, now=now, expires_at=format_timestamp(charge.hold_expires_at))
    return charge_event(charge, registry.CHARGE_COMPLETED, now=now)


def charge_terms(*, client: Client, request: ChargeRequest, currency: str) -> tuple[int | None, dict]:
    """The hold TTL in effect, and the body as billy understands it: a repeat must match it."""
    ttl = (request.hold_ttl_seconds or DEFAULT_HOLD_TTL_SECONDS) if request.hold else None
    terms = {
        "charge_id": request.charge_id,
        "product": request.product,
        "amount": request.amount,
        "currency": currency,
        "hold": request.hold,
        "hold_ttl_seconds": ttl,
        "description": request.description,
        "client_id": client.pk,
    }
    if request.metadata:  # left out when empty, as charges made before metadata existed were written down
        terms["metadata"] = dict(request.metadata)
    return ttl, terms


def new_charge(
    *,
    client: Client,
    wallet_id: int,
    currency: str,
    request: ChargeRequest,
    ttl: int | None,
    fingerprint: dict,
    now: dt.datetime,
    pk: int | None = None,
    transaction_id: int | None = None,
) -> Charge:
    """A charge row as creating it writes it (the statement that inserts it reads its fields)."""
    charge = Charge(
        pk=pk,
        workspace_id=client.workspace_id,
        charge_id=request.charge_id,
        client=client,
        wallet_id=wallet_id,
        product=request.product,
        amount=request.amount,
        currency=currency,
        hold=request.hold,
        status=Charge.Status.HELD if request.hold else Charge.Status.COMPLETED,
        captured=0 if request.hold else request.amount,
        description=request.description,
        metadata=request.metadata,
        hold_expires_at=now + dt.timedelta(seconds=ttl) if ttl else None,
        transaction_id=transaction_id,
        request=fingerprint,
        created_at=now,
        updated_at=now,
    )
    if pk is not None:
        charge._state.adding, charge._state.db = False, "default"
    return charge


def revenue_account(workspace_id: int, currency: str, now: dt.datetime) -> Account:
    return system_account(workspace_id=workspace_id, kind=Account.Kind.REVENUE, currency=currency, now=now)


@dataclass
class PreparedCharge:
    """A charge request checked and placed: its client, wallet, currency and terms, not yet written."""

    client: Client
    wallet_id: int
    wallet_currency: str
    currency: str
    request: ChargeRequest
    ttl: int | None
    fingerprint: dict
    now: dt.datetime


def prepare_charge(*, client: Client, request: ChargeRequest, now: dt.datetime) -> PreparedCharge:
    """Check the request and find (or open) the client's wallet. Raises ValidationFailed, CurrencyMismatch."""
    validate_charge_request(request)
    wallet = get_or_create_wallet(client=client, now=now)
    currency = request.currency or wallet.currency
    if currency != wallet.currency:
        raise CurrencyMismatch(
            f"The wallet holds {wallet.currency}, not {currency}.", details={"wallet_currency": wallet.currency}
        )
    ttl, fingerprint = charge_terms(client=client, request=request, currency=currency)
    return PreparedCharge(client, wallet.pk, wallet.currency, currency, request, ttl, fingerprint, now)


def post_charge(*, client: Client, request: ChargeRequest, now: dt.datetime) -> tuple[Charge, bool]:
    """Charge the client's wallet (or hold the money); returns (charge, created).

    Raises ValidationFailed, CurrencyMismatch, InsufficientFunds (nothing written),
    IdempotencyConflict (the charge_id was used with another body).
    """
    return write_prepared_charge(prepare_charge(client=client, request=request, now=now))


def write_prepared_charge(prepared: PreparedCharge) -> tuple[Charge, bool]:
    """Write one prepared charge in one statement (see `post_charge`)."""
    client, request, now = prepared.client, prepared.request, prepared.now
    charge = new_charge(
        client=client,
        wallet_id=prepared.wallet_id,
        currency=prepared.currency,
        request=request,
        ttl=prepared.ttl,
        fingerprint=prepared.fingerprint,
        now=now,
    )
    try:
        created = _insert_charge(charge, now=now)
    except IntegrityError:
        created = False  # the charge_id is taken: a repeat, or a conflict
    if created:
        return charge, True
    # A repeat answers with the charge as it is now, refunds and all.
    existing = (
        Charge.objects.select_related("client")
        .prefetch_related("refunds")
        .filter(workspace_id=client.workspace_id, charge_id=request.charge_id)
        .first()
    )
    if existing is None:
        raise insufficient_funds(request.amount, prepared.wallet_currency)
    if existing.request != prepared.fingerprint:
        raise IdempotencyConflict(f"charge_id {request.charge_id!r} was already used with another body.")
    return existing, False


def insufficient_funds(amount: int, currency: str) -> InsufficientFunds:
    """The refusal of a charge its wallet has not the money for."""
    return InsufficientFunds(
        f"The wallet has less than {format_amount(amount)} {currency} available.",
        details={"amount": format_amount(amount), "currency": currency},
    )


# One statement (see `spend_statement`): the wallet's money, the ledger transaction, the charge row
# and the event; a taken charge_id aborts the whole statement.
_CHARGE_SQL = spend_statement(
    record="""
, inserted AS (
    INSERT INTO charge (workspace_id, charge_id, client_id, wallet_id, product, amount, currency, hold, status,
                        captured, refunded, description, metadata, hold_expires_at, cancel_reason, transaction_id,
                        request, created_at, updated_at)
    SELECT %(workspace)s, %(charge_id)s, %(client)s, wallet.id, %(product)s, %(amount)s, %(currency)s, %(hold)s,
           %(status)s, %(captured)s, 0, %(description)s, %(metadata)s::jsonb, %(expires_at)s::timestamptz, '',
           (SELECT id FROM tx), %(request)s::jsonb, %(now)s, %(now)s
      FROM wallet
    RETURNING id, transaction_id
)""",
    select="SELECT id, transaction_id FROM inserted",
)


def _insert_charge(charge: Charge, *, now: dt.datetime) -> bool:
    """Write the new charge, filling its ids; False when the wallet lacks the money. IntegrityError:
    the charge_id is taken."""
    event = created_event(charge, now)
    with prepared_cursor() as cursor:
        cursor.execute(
            _CHARGE_SQL,
            {
                **spend_params(
                    workspace_id=charge.workspace_id,
                    wallet_id=charge.wallet_id,
                    currency=charge.currency,
                    amount=charge.amount,
                    hold=charge.hold,
                    kind=LedgerTransaction.Kind.CHARGE,
                    counter_account_id=revenue_account(charge.workspace_id, charge.currency, now).pk,
                    description=charge.product,
                    source={"charge_id": charge.charge_id},
                    event=event,
                    event_json=json.dumps(event.data),
                    now=now,
                ),
                "workspace": charge.workspace_id,
                "client": charge.client_id,
                "charge_id": charge.charge_id,
                "product": charge.product,
                "amount": charge.amount,
                "hold": charge.hold,
                "status": charge.status,
                "captured": charge.captured,
                "currency": charge.currency,
                "description": charge.description,
                "metadata": json.dumps(charge.metadata),
                "expires_at": charge.hold_expires_at,
                "request": json.dumps(charge.request),
                "now": now,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return False
    charge.pk, charge.transaction_id = row
    charge._state.adding, charge._state.db = False, "default"
    return True


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
            charge.transaction = post_movement(
                Movement(
                    workspace_id=workspace.pk,
                    currency=charge.currency,
                    kind=LedgerTransaction.Kind.CHARGE,
                    legs=(
                        (charge.wallet_id, -target),
                        (revenue_account(workspace.pk, charge.currency, now).pk, target),
                    ),
                    description=charge.product,
                    source={"charge_id": charge.charge_id},
                    wallet_id=charge.wallet_id,
                    held=-charge.amount,
                    consumption=target,
                    event=charge_event(
                        charge,
                        registry.CHARGE_CONFIRMED,
                        now=now,
                        amount=format_amount(target),
                        released=format_amount(charge.amount - target),
                    ),
                ),
                now=now,
            )
            charge.status, charge.captured, charge.updated_at = Charge.Status.COMPLETED, target, now
            charge.save(update_fields=["transaction", "status", "captured", "updated_at"])
            return charge
    # The release above is committed; the confirmation is refused.
    raise InvalidState(f"Charge {charge_id!r} expired at {format_timestamp(charge.hold_expires_at)}; it was released.")


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
    post_movement(
        Movement(
            workspace_id=charge.workspace_id,
            currency=charge.currency,
            wallet_id=charge.wallet_id,
            held=-charge.amount,
            event=charge_event(
                charge, registry.CHARGE_CANCELLED, now=now, released=format_amount(charge.amount), reason=reason
            ),
        ),
        now=now,
    )
    charge.status, charge.cancel_reason, charge.updated_at = Charge.Status.CANCELLED, reason, now
    charge.save(update_fields=["status", "cancel_reason", "updated_at"])


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
    check_id(errors, "refund_id", refund_id)
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
    charge.refunded += refund_amount
    charge.updated_at = now
    ledger_transaction = post_movement(
        Movement(
            workspace_id=charge.workspace_id,
            currency=charge.currency,
            kind=LedgerTransaction.Kind.REFUND,
            legs=(
                (charge.wallet_id, refund_amount),
                (revenue_account(charge.workspace_id, charge.currency, now).pk, -refund_amount),
            ),
            description=reason or charge.product,
            source={"charge_id": charge.charge_id, "refund_id": refund_id},
            wallet_id=charge.wallet_id,
            consumption=-refund_amount,
            event=charge_event(
                charge, registry.CHARGE_REFUNDED, now=now, refund_id=refund_id, amount=format_amount(refund_amount)
            ),
        ),
        now=now,
    )
    charge.save(update_fields=["refunded", "updated_at"])
    return Refund.objects.create(
        workspace_id=charge.workspace_id,
        refund_id=refund_id,
        charge=charge,
        amount=refund_amount,
        reason=reason,
        transaction=ledger_transaction,
        request=fingerprint,
        created_at=now,
    )
