"""Writes to the ledger: wallets, postings and operator adjustments.

Every function that moves money runs inside the caller's `transaction.atomic()` (or opens one):
the ledger transaction, its entries, the wallet's running figures and the event commit together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from billy.clients.models import Client
from billy.core.errors import BillyError, IdempotencyConflict, ValidationFailed
from billy.core.money import format_amount
from billy.events.operations import append_event

from .models import Account, Adjustment, Entry, LedgerTransaction


class InsufficientFunds(BillyError):
    code = "insufficient_funds"
    default_message = "Not enough money available in the wallet."


def get_or_create_wallet(*, client: Client, now: dt.datetime) -> Account:
    """The client's wallet in its workspace's currency (created on first use, race-free)."""
    wallet = _joined_wallet(client)
    if wallet is None:
        wallet = Account.objects.filter(client=client).first()
    if wallet is not None:
        return wallet
    Account.objects.bulk_create(
        [
            Account(
                workspace_id=client.workspace_id,
                kind=Account.Kind.WALLET,
                client_id=client.pk,
                currency=client.workspace.currency,
                created_at=now,
            )
        ],
        ignore_conflicts=True,
    )
    return Account.objects.get(client=client)


# System accounts are created once and never change or go away: each process remembers them.
_system_accounts: dict[tuple[int, str, str], Account] = {}


def forget_system_accounts() -> None:
    """Drop the remembered system accounts (for tests that empty the ledger tables)."""
    _system_accounts.clear()


def system_account(*, workspace_id: int, kind: str, currency: str, now: dt.datetime) -> Account:
    """The workspace's account of this kind and currency (created on first use, race-free)."""
    key = (workspace_id, kind, currency)
    account = _system_accounts.get(key)
    if account is None:
        account = Account.objects.filter(workspace_id=workspace_id, kind=kind, currency=currency, client=None).first()
        if account is None:
            Account.objects.bulk_create(
                [Account(workspace_id=workspace_id, kind=kind, currency=currency, created_at=now)],
                ignore_conflicts=True,
            )
            account = Account.objects.get(workspace_id=workspace_id, kind=kind, currency=currency, client=None)
        # Remember only what is committed: a creation rolled back must not be remembered.
        transaction.on_commit(lambda: _system_accounts.setdefault(key, account))
    return account


def _joined_wallet(client: Client) -> Account | None:
    """The wallet loaded with the client (`select_related("wallet")`), if it was."""
    try:
        wallet = client.wallet if "wallet" in client._state.fields_cache else None
    except Account.DoesNotExist:
        return None
    return wallet if wallet is not None and wallet.pk is not None else None


def lock_wallets(wallet_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Lock wallets in id order (the one order every multi-wallet writer uses); (available, currency) each."""
    if not wallet_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, balance - held, currency FROM ledger_account WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            [sorted(wallet_ids)],
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


@dataclass(frozen=True)
class WalletFigures:
    balance: int
    held: int
    net_consumption: int


def move_wallet(*, wallet_id: int, balance: int = 0, held: int = 0, consumption: int = 0) -> WalletFigures | None:
    """Change a wallet's running figures in one statement, only if available stays >= 0.

    Returns the new figures, or None when the wallet has not enough available money. The row lock
    it takes serialises every movement of this wallet until the caller's transaction ends.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE ledger_account
               SET balance = balance + %(balance)s,
                   held = held + %(held)s,
                   net_consumption = net_consumption + %(consumption)s
             WHERE id = %(id)s
               AND balance + %(balance)s - (held + %(held)s) >= 0
               AND held + %(held)s >= 0
            RETURNING balance, held, net_consumption
            """,
            {"id": wallet_id, "balance": balance, "held": held, "consumption": consumption},
        )
        row = cursor.fetchone()
    return WalletFigures(*row) if row else None


def post_transaction(
    *,
    workspace_id: int,
    kind: str,
    currency: str,
    legs: list[tuple[int, int]],
    now: dt.datetime,
    description: str = "",
) -> LedgerTransaction:
    """A ledger transaction with one entry per (account id, amount); amounts must sum to zero."""
    if sum(amount for _, amount in legs) != 0:
        raise ValueError(f"legs do not sum to zero: {legs}")
    ledger_transaction = LedgerTransaction.objects.create(
        workspace_id=workspace_id, kind=kind, description=description[:256], created_at=now
    )
    Entry.objects.bulk_create(
        [
            Entry(
                transaction=ledger_transaction, account_id=account_id, amount=amount, currency=currency, created_at=now
            )
            for account_id, amount in legs
        ]
    )
    return ledger_transaction


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
    if not adjustment_id.strip() or len(adjustment_id) > 128:
        errors["adjustment_id"] = ["Required, at most 128 characters."]
    if len(reason) > 512:
        errors.setdefault("reason", []).append("At most 512 characters.")
    if errors:
        raise ValidationFailed(errors)
    # A repeat is answered before any money moves: the wallet may hold less by now.
    existing = (
        Adjustment.objects.select_related("wallet")
        .filter(workspace_id=client.workspace_id, adjustment_id=adjustment_id)
        .first()
    )
    if existing is None:
        try:
            return _post_adjustment(
                client=client, adjustment_id=adjustment_id, amount=amount, reason=reason, actor=actor, now=now
            ), True
        except IntegrityError:
            # A concurrent call with the same adjustment_id committed first.
            existing = (
                Adjustment.objects.select_related("wallet")
                .filter(workspace_id=client.workspace_id, adjustment_id=adjustment_id)
                .first()
            )
            if existing is None:
                raise
    if (existing.wallet.client_id, existing.amount, existing.reason) != (client.pk, amount, reason):
        raise IdempotencyConflict(f"adjustment_id {adjustment_id!r} was already used with another body.")
    return existing, False


def _post_adjustment(
    *, client: Client, adjustment_id: str, amount: int, reason: str, actor: str, now: dt.datetime
) -> Adjustment:
    with transaction.atomic():
        wallet = get_or_create_wallet(client=client, now=now)
        corrections = system_account(
            workspace_id=client.workspace_id, kind=Account.Kind.CORRECTIONS, currency=wallet.currency, now=now
        )
        if move_wallet(wallet_id=wallet.pk, balance=amount) is None:
            raise InsufficientFunds(
                f"The adjustment of {format_amount(amount)} would take the wallet below zero.",
                details={"available": format_amount(wallet.available)},
            )
        ledger_transaction = post_transaction(
            workspace_id=client.workspace_id,
            kind=LedgerTransaction.Kind.ADJUSTMENT,
            currency=wallet.currency,
            legs=[(wallet.pk, amount), (corrections.pk, -amount)],
            description=reason,
            now=now,
        )
        adjustment = Adjustment.objects.create(
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
        append_event(
            workspace_id=client.workspace_id,
            type="wallet.adjusted",
            data={
                "adjustment_id": adjustment_id,
                "client": client.service_client_id,
                "amount": format_amount(amount),
                "currency": wallet.currency,
                "at": now.isoformat(),
            },
            now=now,
        )
        return adjustment
