"""The one writer of the ledger: wallets' figures, ledger transactions, their entries, and the event
of each movement. Nothing else in billy writes `ledger_account`, `ledger_transaction` or
`ledger_entry` (a test refuses such a write anywhere else).

It also holds the one rule for what a wallet may spend: available = balance - held, never below
zero after a movement. The rule is written once as SQL (`available_sql`, `_fits_sql`) and once as
the same arithmetic in Python for decisions made on locked figures (`available`, `Funds.take`),
side by side; a future limit (credit used, a family member's limit) joins it here and reaches every
caller. Callers move money in one of three shapes, all built here:

- `post_movement`: a posting and/or a change of a wallet's figures, with its event (refunds,
  confirmations, releases, adjustments, card payments);
- `spend_statement`: one statement that takes money from a wallet (a debit posted to a counter
  account, or a hold) only if it is there, writes the caller's own row, and appends the event: one
  round trip and the shortest possible hold on the wallet's row;
- `spend_many_ctes`: the same for a set of spends decided on wallets locked by `lock_wallets`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.db import connection, transaction

from billy.core.errors import BillyError
from billy.core.money import format_amount
from billy.core.postgresql import prepared_cursor
from billy.events.operations import EVENT_INSERT, append_event
from billy.events.registry import NewEvent

from .models import Account, Entry, LedgerTransaction


class InsufficientFunds(BillyError):
    code = "insufficient_funds"
    default_message = "Not enough money available in the wallet."


# -- what a wallet may spend ---------------------------------------------------------------------


def available_sql(balance: str = "balance", held: str = "held") -> str:
    """Available money as SQL over a wallet's figures (or expressions for the figures after a change)."""
    return f"({balance}) - ({held})"


def available(*, balance: int, held: int) -> int:
    """Available money of a wallet's figures: `available_sql` in Python."""
    return balance - held


def _fits_sql(balance_change: str, held_change: str) -> str:
    """SQL: the wallet may take this change of its figures (available stays >= 0, held never < 0)."""
    after = available_sql(f"balance + {balance_change}", f"held + {held_change}")
    return f"{after} >= 0 AND held + {held_change} >= 0"


class Funds:
    """Wallets locked for this transaction (in id order, the one order every multi-wallet writer
    uses) and what each may still spend as the caller decides, spend by spend."""

    def __init__(self, figures: dict[int, tuple[int, int]]):
        self._available = {wallet_id: available(balance=b, held=h) for wallet_id, (b, h) in figures.items()}

    def take(self, wallet_id: int, amount: int) -> bool:
        """Set `amount` aside for a spend if the wallet has it (the rule of `_fits_sql`)."""
        if self._available[wallet_id] - amount < 0:
            return False
        self._available[wallet_id] -= amount
        return True


def lock_wallets(wallet_ids: list[int]) -> Funds:
    """Lock the wallets (id order) until the transaction ends; what each may spend."""
    if not wallet_ids:
        return Funds({})
    with prepared_cursor() as cursor:
        cursor.execute(
            "SELECT id, balance, held FROM ledger_account WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            [sorted(set(wallet_ids))],
        )
        return Funds({row[0]: row[1:] for row in cursor.fetchall()})


def lock_wallets_drawing(wallet_ids: list[int], count: int) -> tuple[Funds, list[int]]:
    """`lock_wallets` and `draw_transaction_ids(count)` in one round trip."""
    with prepared_cursor() as cursor:
        cursor.execute(
            "SELECT id, balance, held, ARRAY(SELECT nextval(pg_get_serial_sequence('ledger_transaction', 'id'))"
            "                                  FROM generate_series(1, %s))"
            "  FROM ledger_account WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            [count, sorted(set(wallet_ids))],
        )
        rows = cursor.fetchall()
    return Funds({row[0]: (row[1], row[2]) for row in rows}), (rows[0][3] if rows else [])


# -- accounts ------------------------------------------------------------------------------------


def get_or_create_wallet(*, client, now: dt.datetime) -> Account:
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


def get_or_create_wallets(*, workspace, client_ids: list[int], now: dt.datetime) -> dict[int, tuple[int, str]]:
    """(wallet id, currency) per client id, creating missing wallets in one statement."""

    def load():
        return {
            c: (w, cur)
            for c, w, cur in Account.objects.filter(client_id__in=client_ids).values_list("client_id", "id", "currency")
        }

    existing = load()
    missing = [c for c in client_ids if c not in existing]
    if missing:
        Account.objects.bulk_create(
            [
                Account(
                    workspace=workspace,
                    kind=Account.Kind.WALLET,
                    client_id=c,
                    currency=workspace.currency,
                    created_at=now,
                )
                for c in missing
            ],
            ignore_conflicts=True,
        )
        existing = load()
    return existing


def _joined_wallet(client) -> Account | None:
    """The wallet loaded with the client (`select_related("wallet")`), if it was."""
    try:
        wallet = client.wallet if "wallet" in client._state.fields_cache else None
    except Account.DoesNotExist:
        return None
    return wallet if wallet is not None and wallet.pk is not None else None


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


# -- movements one by one ------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """Money that moves, and the event that says so.

    `legs` are (account id, amount) entries of one ledger transaction of `kind` (they must sum to
    zero); no legs and no kind: nothing is posted (a hold's release). `source` names what made the
    transaction by the ids its API shows (`{"charge_id": ...}`; the keys each kind needs are in
    `billy.ledger.models`, and the database refuses a transaction without them). `wallet_id` names the wallet
    whose running figures change: its balance by its own legs, its held money by `held`, its
    consumption (charged minus refunded) by `consumption`.
    """

    workspace_id: int
    currency: str
    event: NewEvent
    kind: str | None = None
    legs: tuple[tuple[int, int], ...] = ()
    source: dict[str, str] | None = None
    description: str = ""
    wallet_id: int | None = None
    held: int = 0
    consumption: int = 0


def post_movement(movement: Movement, *, now: dt.datetime) -> LedgerTransaction | None:
    """Move the money and append the event, all or nothing; returns the ledger transaction (None
    when nothing is posted). Raises InsufficientFunds, with nothing written, when the wallet cannot
    take the change. The wallet's row lock serialises its movements until the caller's transaction ends.

    It joins the caller's transaction without a savepoint (one round trip less per movement), so an
    error from it dooms that transaction: a caller may translate the error, not go on after it.
    """
    if sum(amount for _, amount in movement.legs) != 0 or bool(movement.legs) != bool(movement.kind):
        raise ValueError(f"legs do not make a {movement.kind} transaction: {movement.legs}")
    with transaction.atomic(savepoint=False):
        if movement.wallet_id is not None:
            balance_change = sum(amount for account, amount in movement.legs if account == movement.wallet_id)
            _move_wallet(
                wallet_id=movement.wallet_id,
                balance=balance_change,
                held=movement.held,
                consumption=movement.consumption,
            )
        ledger_transaction = None
        if movement.kind:
            ledger_transaction = LedgerTransaction.objects.create(
                workspace_id=movement.workspace_id,
                kind=movement.kind,
                description=movement.description[:256],
                source=movement.source,
                created_at=now,
            )
            Entry.objects.bulk_create(
                [
                    Entry(
                        transaction=ledger_transaction,
                        account_id=account_id,
                        amount=amount,
                        currency=movement.currency,
                        created_at=now,
                    )
                    for account_id, amount in movement.legs
                ]
            )
        append_event(workspace_id=movement.workspace_id, event=movement.event, now=now)
    return ledger_transaction


_MOVE_WALLET_SQL = f"""
UPDATE ledger_account
   SET balance = balance + %(balance)s, held = held + %(held)s, net_consumption = net_consumption + %(consumption)s
 WHERE id = %(id)s AND {_fits_sql("%(balance)s", "%(held)s")}
RETURNING id
"""  # noqa: S608 (constant fragments only)


def _move_wallet(*, wallet_id: int, balance: int, held: int, consumption: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            _MOVE_WALLET_SQL, {"id": wallet_id, "balance": balance, "held": held, "consumption": consumption}
        )
        if cursor.fetchone() is None:
            raise InsufficientFunds()


# -- spending in one statement -------------------------------------------------------------------

_SPEND_CTES = f"""
WITH wallet AS (
    UPDATE ledger_account
       SET balance = balance - %(l_debit)s, held = held + %(l_hold)s,
           net_consumption = net_consumption + %(l_debit)s
     WHERE id = %(l_wallet)s AND {_fits_sql("-%(l_debit)s", "%(l_hold)s")}
    RETURNING id
), tx AS (
    INSERT INTO ledger_transaction (workspace_id, kind, description, source, created_at)
    SELECT %(l_workspace)s, %(l_kind)s, %(l_description)s, %(l_source)s::jsonb, %(l_now)s
      FROM wallet WHERE %(l_debit)s > 0  /* not a hold */
    RETURNING id
), entries AS (
    INSERT INTO ledger_entry (transaction_id, account_id, amount, currency, created_at)
    SELECT tx.id, leg.account, leg.amount, %(l_currency)s, %(l_now)s
      FROM tx, (VALUES (%(l_wallet)s::bigint, -%(l_debit)s::bigint), (%(l_counter)s::bigint, %(l_debit)s::bigint))
           AS leg(account, amount)
), appended AS (
    {EVENT_INSERT}
    SELECT %(l_workspace)s, %(l_event_type)s, %(l_event_version)s, %(l_event)s::jsonb, %(l_now)s FROM wallet
)"""  # noqa: S608 (constant fragments only)


def spend_statement(*, record: str, select: str) -> str:
    """One statement that spends from a wallet if the money is there (see `spend_params`).

    `record` is the caller's own CTE (`, name AS (...)`), which may read `wallet` (the wallet's id,
    one row only when the money was there) and `tx` (the ledger transaction's id, for a debit);
    `select` is the statement's result, read from it. Nothing is written when the money is not there.
    """
    return _SPEND_CTES + record + "\n" + select


def spend_params(
    *,
    workspace_id: int,
    wallet_id: int,
    currency: str,
    amount: int,
    hold: bool,
    kind: str,
    counter_account_id: int,
    description: str,
    source: dict[str, str],
    event: NewEvent,
    event_json: str,
    now: dt.datetime,
) -> dict:
    """The parameters of `spend_statement`: `amount` debited (posted to the counter account as a
    transaction of `kind` made by `source`, and counted as consumption) or, for a hold, set aside."""
    return {
        "l_workspace": workspace_id,
        "l_wallet": wallet_id,
        "l_currency": currency,
        "l_debit": 0 if hold else amount,
        "l_hold": amount if hold else 0,
        "l_kind": kind,
        "l_counter": counter_account_id,
        "l_description": description[:256],
        "l_source": json.dumps(source),
        "l_event_type": event.type,
        "l_event_version": event.version,
        "l_event": event_json,
        "l_now": now,
    }


def spend_many_ctes(*, source: str) -> str:
    """CTEs (`, name AS (...)` each) that post a set of spends decided on `lock_wallets`' figures.

    `source` names the caller's CTE with one row per spend and the columns `wallet_id`, `amount`,
    `hold`, `transaction_id` (from `draw_transaction_ids` for a debit), `description`,
    `transaction_source` (JSON text: what made the transaction, as `Movement.source`), `event_type`,
    `event_version` and `event` (JSON text). Parameters: `l_workspace`, `l_kind`, `l_counter` (the
    counter account of every debit), `l_currency`, `l_now`.
    """
    return f"""
, transactions AS (
    INSERT INTO ledger_transaction (id, workspace_id, kind, description, source, created_at)
    SELECT transaction_id, %(l_workspace)s, %(l_kind)s, left(description, 256), transaction_source::jsonb, %(l_now)s
      FROM {source} WHERE NOT hold
), entries AS (
    INSERT INTO ledger_entry (transaction_id, account_id, amount, currency, created_at)
    SELECT s.transaction_id, leg.account, leg.amount, %(l_currency)s, %(l_now)s
      FROM {source} s
      CROSS JOIN LATERAL (VALUES (s.wallet_id, -s.amount), (%(l_counter)s::bigint, s.amount)) AS leg(account, amount)
     WHERE NOT s.hold
), wallets AS (  /* decided by Funds.take on the locked wallets; the CHECK constraint backs it */
    UPDATE ledger_account a
       SET balance = a.balance - d.debit, held = a.held + d.held, net_consumption = a.net_consumption + d.debit
      FROM (SELECT wallet_id,
                   sum(CASE WHEN hold THEN 0 ELSE amount END) AS debit,
                   sum(CASE WHEN hold THEN amount ELSE 0 END) AS held
              FROM {source} GROUP BY wallet_id) AS d
     WHERE a.id = d.wallet_id
), events AS (
    {EVENT_INSERT}
    SELECT %(l_workspace)s, event_type, event_version, event::jsonb, %(l_now)s FROM {source}
)"""  # noqa: S608 (`source` is the caller's constant CTE name)


def draw_transaction_ids(count: int) -> list[int]:
    """Ids for ledger transactions a statement will insert, so rows written with them can name them."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('ledger_transaction', 'id')) FROM generate_series(1, %s)", [count]
        )
        return [row[0] for row in cursor.fetchall()]


# -- credit from Balance -------------------------------------------------------------------------
# A postpay wallet may take credit from its contract's limit: `credit_used` never passes
# `credit_limit` when credit is reserved (one guarded statement, so concurrent transfers can never
# pass it together), and never goes below zero.


class CreditLimitExceeded(BillyError):
    code = "credit_limit_exceeded"
    default_message = "The transfer would exceed the contract's credit limit."


def credit_available(*, credit_limit: int, credit_used: int) -> int:
    """What a wallet may still take from its credit limit."""
    return max(0, credit_limit - credit_used)


_RESERVE_CREDIT_SQL = """
UPDATE ledger_account SET credit_used = credit_used + %(amount)s
 WHERE id = %(id)s AND credit_used + %(amount)s <= credit_limit
RETURNING credit_limit, credit_used
"""


def reserve_credit(*, wallet_id: int, amount: int) -> None:
    """Count `amount` as credit used before Balance is asked for it; CreditLimitExceeded (nothing
    changed) when the limit does not have it."""
    with connection.cursor() as cursor:
        cursor.execute(_RESERVE_CREDIT_SQL, {"id": wallet_id, "amount": amount})
        if cursor.fetchone() is None:
            cursor.execute("SELECT credit_limit, credit_used FROM ledger_account WHERE id = %s", [wallet_id])
            limit, used = cursor.fetchone()
            raise CreditLimitExceeded(
                details={"credit_available": format_amount(credit_available(credit_limit=limit, credit_used=used))}
            )


def release_credit(*, wallet_id: int, amount: int) -> None:
    """Give back a reservation Balance refused."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_account SET credit_used = greatest(0, credit_used - %s) WHERE id = %s", [amount, wallet_id]
        )


def set_credit_figures(*, wallet_id: int, credit_limit: int | None = None, credit_used: int | None = None) -> None:
    """The wallet's credit limit (from its contract) and credit used (Balance's, plus what billy has
    reserved and not yet settled), as their owners say. Repayment lowers credit used and adds no money."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_account"
            "   SET credit_limit = coalesce(%s, credit_limit), credit_used = coalesce(%s, credit_used)"
            " WHERE id = %s",
            [credit_limit, credit_used, wallet_id],
        )
