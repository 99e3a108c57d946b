"""Operator adjustments of wallets: a correction with a reason, named by the operator's id.

The money moves through `postings`, the ledger's one writer.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from billy.clients.models import Client
from billy.core.errors import IdempotencyConflict, ValidationFailed
from billy.core.money import format_amount
from billy.core.timestamps import format_timestamp
from billy.core.validation import check_id
from billy.events import registry

from .models import Account, Adjustment, LedgerTransaction
from .postings import (
    InsufficientFunds,
    Movement,
    available,
    get_or_create_wallet,
    post_movement,
    system_account,
)


def adjust_wallet(
    *,
    client: Client,
    adjustment_id: str,
    amount: int,
    reason: str,
    actor: str,
    now: dt.datetime,
) -> tuple[Adjustment, bool]:
    """Post an operator's correction to the client's wallet; returns (adjustment, created).

    A repeat with the same adjustment_id and body returns the first one. Raises
    ValidationFailed, IdempotencyConflict, InsufficientFunds (a negative amount beyond available).
    """
    errors: dict[str, list[str]] = {}
    if amount == 0:
        errors["amount"] = ["An adjustment moves money: it cannot be zero."]
    if not reason.strip():
        errors["reason"] = ["Say why: the reason is required."]
    check_id(errors, "adjustment_id", adjustment_id)
    if len(reason) > 512:
        errors.setdefault("reason", []).append("At most 512 characters.")
    if errors:
        raise ValidationFailed(errors)
    # A repeat is answered before any money moves: the wallet may hold less by now.
    existing = _adjustment(client, adjustment_id)
    if existing is None:
        try:
            return _post_adjustment(
                client=client, adjustment_id=adjustment_id, amount=amount, reason=reason, actor=actor, now=now
            ), True
        except IntegrityError:
            # A concurrent call with the same adjustment_id committed first.
            existing = _adjustment(client, adjustment_id)
            if existing is None:
                raise
    if (existing.wallet.client_id, existing.amount, existing.reason) != (client.pk, amount, reason):
        raise IdempotencyConflict(f"adjustment_id {adjustment_id!r} was already used with another body.")
    return existing, False


def _adjustment(client: Client, adjustment_id: str) -> Adjustment | None:
    return (
        Adjustment.objects.select_related("wallet")
        .filter(workspace_id=client.workspace_id, adjustment_id=adjustment_id)
        .first()
    )


def _post_adjustment(
    *, client: Client, adjustment_id: str, amount: int, reason: str, actor: str, now: dt.datetime
) -> Adjustment:
    with transaction.atomic():
        wallet = get_or_create_wallet(client=client, now=now)
        corrections = system_account(
            workspace_id=client.workspace_id, kind=Account.Kind.CORRECTIONS, currency=wallet.currency, now=now
        )
        event = registry.WALLET_ADJUSTED.build(
            adjustment_id=adjustment_id,
            client=client.service_client_id,
            amount=format_amount(amount),
            currency=wallet.currency,
            at=format_timestamp(now),
        )
        try:
            ledger_transaction = post_movement(
                Movement(
                    workspace_id=client.workspace_id,
                    currency=wallet.currency,
                    kind=LedgerTransaction.Kind.ADJUSTMENT,
                    legs=((wallet.pk, amount), (corrections.pk, -amount)),
                    description=reason,
                    source={"adjustment_id": adjustment_id},
                    wallet_id=wallet.pk,
                    event=event,
                ),
                now=now,
            )
        except InsufficientFunds:
            raise InsufficientFunds(
                f"The adjustment of {format_amount(amount)} would take the wallet below zero.",
                details={"available": format_amount(available(balance=wallet.balance, held=wallet.held))},
            ) from None
        return Adjustment.objects.create(
            workspace_id=client.workspace_id,
            adjustment_id=adjustment_id,
            wallet=wallet,
            amount=amount,
            currency=wallet.currency,
            reason=reason,
            transaction=ledger_transaction,
            created_by=actor,
            created_at=now,
        )
