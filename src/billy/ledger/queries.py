"""Reads of wallets and their history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django.db import connection

from billy.clients.models import Client
from billy.core.pagination import check_limit, decode_id_cursor, encode_id_cursor

from .models import Account, Entry, LedgerTransaction
from .postings import available, credit_available


@dataclass(frozen=True)
class WalletView:
    currency: str
    balance: int
    held: int
    available: int
    credit_limit: int
    net_consumption: int
    credit_used: int = 0

    @property
    def credit_available(self) -> int:
        return credit_available(credit_limit=self.credit_limit, credit_used=self.credit_used)


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
        credit_used=wallet.credit_used,
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


# -- statements ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    transaction_id: int
    kind: str
    description: str
    amount: int  # signed: what the account gained (+) or lost (-)
    balance: int  # the account's posted balance after this movement
    created_at: dt.datetime


@dataclass(frozen=True)
class Statement:
    """An account's movements in [start, end): opening + credited + debited = closing."""

    currency: str
    start: dt.datetime
    end: dt.datetime
    opening: int
    credited: int
    debited: int  # negative or zero
    closing: int
    count: int  # movements in the period
    lines: list[StatementLine]  # `limit` of them from `offset`, oldest first


_STATEMENT_FIGURES = """
SELECT coalesce(sum(amount) FILTER (WHERE created_at < %(start)s), 0)::bigint,
       coalesce(sum(amount) FILTER (WHERE created_at >= %(start)s AND amount > 0), 0)::bigint,
       coalesce(sum(amount) FILTER (WHERE created_at >= %(start)s AND amount < 0), 0)::bigint,
       count(*) FILTER (WHERE created_at >= %(start)s)
  FROM ledger_entry
 WHERE account_id = %(account)s AND created_at < %(end)s
"""

_STATEMENT_LINES = """
SELECT e.transaction_id, t.kind, t.description, e.amount,
       (%(opening)s + sum(e.amount) OVER (ORDER BY e.created_at, e.id))::bigint AS balance, e.created_at
  FROM ledger_entry e JOIN ledger_transaction t ON t.id = e.transaction_id
 WHERE e.account_id = %(account)s AND e.created_at >= %(start)s AND e.created_at < %(end)s
 ORDER BY e.created_at, e.id
 LIMIT %(limit)s OFFSET %(offset)s
"""


def account_statement(
    *, account: Account, start: dt.datetime, end: dt.datetime, limit: int = 500, offset: int = 0
) -> Statement:
    """The account's statement for [start, end), from its posted entries (held money is not a
    movement). Two queries, whatever the account's history. Raises ValueError unless start < end."""
    if not start < end:
        raise ValueError("A statement's period starts before it ends.")
    params = {"account": account.pk, "start": start, "end": end}
    with connection.cursor() as cursor:
        cursor.execute(_STATEMENT_FIGURES, params)
        opening, credited, debited, count = cursor.fetchone()
        cursor.execute(_STATEMENT_LINES, {**params, "opening": opening, "limit": limit, "offset": offset})
        lines = [StatementLine(*row) for row in cursor.fetchall()]
    return Statement(
        currency=account.currency,
        start=start,
        end=end,
        opening=opening,
        credited=credited,
        debited=debited,
        closing=opening + credited + debited,
        count=count,
        lines=lines,
    )


# -- money moved, day by day -----------------------------------------------------------------------


@dataclass(frozen=True)
class DailyMoney:
    """What moved in one workspace and currency on one day of the workspace's time zone."""

    workspace_id: int
    currency: str
    day: dt.date
    charged: int = 0  # taken from wallets by charges
    refunded: int = 0  # given back to wallets by charge refunds
    topped_up: int = 0  # put into wallets otherwise (adjustments up; payments in, to come)
    card_paid: int = 0  # paid by card: subscriptions, and spendings cleared on family cards
    card_refunded: int = 0  # given back to cards (family card refunds too)

    def add(self, *, kind: str, account_kind: str, amount: int) -> DailyMoney:
        """This day with one more posted sum of entries of a transaction kind on an account kind."""
        figure = _FIGURE.get((account_kind, kind)) or (
            "topped_up" if account_kind == Account.Kind.WALLET and amount > 0 else None
        )
        if figure is None:
            return self
        sign = -1 if figure in ("charged", "card_refunded") else 1
        return replace(self, **{figure: getattr(self, figure) + sign * amount})


_FIGURE = {
    (Account.Kind.WALLET, LedgerTransaction.Kind.CHARGE): "charged",
    (Account.Kind.WALLET, LedgerTransaction.Kind.REFUND): "refunded",
    (Account.Kind.REVENUE, LedgerTransaction.Kind.CARD_PAYMENT): "card_paid",
    (Account.Kind.REVENUE, LedgerTransaction.Kind.CARD_REFUND): "card_refunded",
    (Account.Kind.REVENUE, LedgerTransaction.Kind.FAMILY_SPENDING): "card_paid",
    (Account.Kind.REVENUE, LedgerTransaction.Kind.FAMILY_REFUND): "card_refunded",
}

_DAILY_MONEY = """
SELECT a.workspace_id, e.currency, (e.created_at AT TIME ZONE w.time_zone)::date AS day, t.kind, a.kind,
       sign(e.amount), sum(e.amount)
  FROM ledger_entry e
  JOIN ledger_account a ON a.id = e.account_id
  JOIN ledger_transaction t ON t.id = e.transaction_id
       -- An entry is written with its transaction's created_at (postings): both sides read only the period.
       AND t.created_at >= %(since)s AND t.created_at < %(until)s
  JOIN workspace w ON w.id = a.workspace_id
 WHERE e.created_at >= %(since)s AND e.created_at < %(until)s AND a.kind IN ('WALLET', 'REVENUE')
 GROUP BY 1, 2, 3, 4, 5, 6
"""


def daily_money(*, since: dt.datetime, until: dt.datetime) -> list[DailyMoney]:
    """Per workspace, currency and local day, what was charged, refunded, topped up and paid by card
    in [since, until), in one query (BRIN indexes on created_at keep it to the period's blocks: a
    month of 350,000 entries in a ledger of 4,000,000 took 0.45 s, against 1.8 s without)."""
    days: dict[tuple[int, str, dt.date], DailyMoney] = {}
    with connection.cursor() as cursor:
        cursor.execute(_DAILY_MONEY, {"since": since, "until": until})
        for workspace_id, currency, day, kind, account_kind, _sign, amount in cursor.fetchall():
            key = (workspace_id, currency, day)
            current = days.get(key) or DailyMoney(workspace_id=workspace_id, currency=currency, day=day)
            days[key] = current.add(kind=kind, account_kind=account_kind, amount=int(amount))
    return sorted(days.values(), key=lambda d: (d.workspace_id, d.currency, d.day))
