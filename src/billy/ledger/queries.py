"""Reads of wallets and their history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from billy.clients.models import Client
from billy.core.pagination import check_limit, decode_id_cursor, encode_id_cursor

from .models import Account, Entry
from .postings import available


@dataclass(frozen=True)
class WalletView:
    currency: str
    balance: int
    held: int
    available: int
    credit_limit: int
    net_consumption: int


def get_wallet(*, client: Client) -> WalletView:
    """The client's wallet figures; a client that never had money shows zeros."""
    wallet = Account.objects.filter(client=client).first()
    if wallet is None:
        return WalletView(client.workspace.currency, 0, 0, 0, 0, 0)
    return WalletView(
        currency=wallet.currency,
        balance=wallet.balance,
        held=wallet.held,
        available=available(balance=wallet.balance, held=wallet.held),
        credit_limit=wallet.credit_limit,
        net_consumption=wallet.net_consumption,
    )


@dataclass(frozen=True)
class WalletTransaction:
    id: int
    kind: str
    amount: int  # signed: what the wallet gained (+) or lost (-)
    currency: str
    description: str
    source: dict[str, str]  # what made it: {"charge_id": ...}, {"adjustment_id": ...}, ...
    created_at: dt.datetime


def list_wallet_transactions(
    *, client: Client, limit: int, cursor: str | None
) -> tuple[list[WalletTransaction], str | None]:
    """The wallet's postings, newest first, and the cursor of the next page (None at the end)."""
    check_limit(limit)
    entries = Entry.objects.filter(account__client=client).select_related("transaction").order_by("-id")
    after = decode_id_cursor(cursor)
    if after is not None:
        entries = entries.filter(id__lt=after)
    page = list(entries[: limit + 1])
    items = [
        WalletTransaction(
            id=e.transaction_id,
            kind=e.transaction.kind,
            amount=e.amount,
            currency=e.currency,
            description=e.transaction.description,
            source=e.transaction.source,
            created_at=e.created_at,
        )
        for e in page[:limit]
    ]
    return items, (encode_id_cursor(page[limit - 1].id) if len(page) > limit else None)
