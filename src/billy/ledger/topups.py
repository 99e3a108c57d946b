"""Money from Balance onto wallets: paid money and credit money, and the wallet's credit figures.

Paid money posts as a TOP_UP from the workspace's BALANCE_RECEIPTS account, credit money as a CREDIT
from its BALANCE_CREDIT account; each names the wallet order it came through. What to book (the
increase of the order's totals over what billy booked before) is decided by the caller
(`billy.moneyin.booking`) under the order's row lock, in the same transaction as these postings.
The money moves through `postings`, the ledger's one writer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from billy.clients.models import Client
from billy.core.money import format_amount
from billy.core.timestamps import format_timestamp
from billy.events import registry

from .models import Account, LedgerTransaction
from .postings import (
    CreditLimitExceeded,
    Movement,
    get_or_create_wallet,
    post_movement,
    release_credit,
    reserve_credit,
    set_credit_figures,
    system_account,
)

__all__ = ["CreditLimitExceeded", "TopUp", "book_top_up", "release_credit", "reserve_credit", "set_credit_figures"]

PAYMENT, CREDIT = "PAYMENT", "CREDIT"
_KINDS = {
    PAYMENT: (LedgerTransaction.Kind.TOP_UP, Account.Kind.BALANCE_RECEIPTS, "Paid into the personal account"),
    CREDIT: (LedgerTransaction.Kind.CREDIT, Account.Kind.BALANCE_CREDIT, "Moved from the credit limit"),
}


@dataclass(frozen=True)
class TopUp:
    """Money from Balance to book: `paid` and `credit` are increases, never negative."""

    wallet_order_id: int
    contract_id: str  # the consumer's id of the contract, for the event
    paid: int
    credit: int


def book_top_up(*, client: Client, top_up: TopUp, now: dt.datetime) -> list[LedgerTransaction]:
    """Post the top-up's paid and credit money onto the client's wallet, each with its
    `wallet.topped_up` event; the transactions posted (none for zero amounts)."""
    if top_up.paid < 0 or top_up.credit < 0:
        raise ValueError(f"a top-up only adds money: {top_up}")
    posted = []
    with transaction.atomic(savepoint=False):
        wallet = get_or_create_wallet(client=client, now=now)
        for source, amount in ((PAYMENT, top_up.paid), (CREDIT, top_up.credit)):
            if not amount:
                continue
            kind, counter_kind, description = _KINDS[source]
            counter = system_account(
                workspace_id=client.workspace_id, kind=counter_kind, currency=wallet.currency, now=now
            )
            event = registry.WALLET_TOPPED_UP.build(
                client=client.service_client_id,
                source=source,
                amount=format_amount(amount),
                currency=wallet.currency,
                contract_id=top_up.contract_id,
                at=format_timestamp(now),
            )
            posted.append(
                post_movement(
                    Movement(
                        workspace_id=client.workspace_id,
                        currency=wallet.currency,
                        kind=kind,
                        legs=((wallet.pk, amount), (counter.pk, -amount)),
                        description=f"{description} (wallet order {top_up.wallet_order_id})",
                        source={"wallet_order_id": str(top_up.wallet_order_id)},
                        wallet_id=wallet.pk,
                        event=event,
                    ),
                    now=now,
                )
            )
    return posted
