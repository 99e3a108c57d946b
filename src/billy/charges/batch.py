"""Many charges in one call, set-based: a fixed number of statements for up to 1,000 items.

Each item behaves like `post_charge`: validated alone, idempotent by its charge_id, refused alone
when its wallet lacks the money. The wallets are locked once (in id order, so concurrent batches
cannot deadlock), items are decided in order against the money each wallet has, and all rows go
in with multi-row statements. No savepoint per item: PostgreSQL's subtransaction cache holds 64.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.db import connection, transaction

from billy.clients.models import Client
from billy.clients.queries import ClientNotFound
from billy.core.errors import BillyError, IdempotencyConflict, ValidationFailed
from billy.core.money import format_amount
from billy.core.validation import is_printable_text
from billy.ledger.models import Account
from billy.ledger.operations import InsufficientFunds, lock_wallets, system_account
from billy.workspaces.models import Workspace

from .models import Charge
from .operations import (
    ChargeRequest,
    CurrencyMismatch,
    charge_terms,
    created_facts,
    post_charge,
    validate_charge_request,
)

MAX_ITEMS = 1000


@dataclass(frozen=True)
class BatchItem:
    service_client_id: str
    request: ChargeRequest


@dataclass
class BatchResult:
    status: int  # 201 created, 200 repeat, else the error's HTTP status
    charge_id: str
    error: BillyError | None = None
    charge: Charge | None = None  # the charge as created (201); repeats are read by the caller


@dataclass
class _Pending:
    index: int
    client: Client
    wallet_id: int
    request: ChargeRequest
    ttl: int | None
    fingerprint: dict


def post_charges(*, workspace: Workspace, items: list[BatchItem], now: dt.datetime) -> list[BatchResult]:
    """Results in the items' order; each result carries its own error. Raises ValidationFailed
    only for a batch that is empty or larger than MAX_ITEMS."""
    if not 1 <= len(items) <= MAX_ITEMS:
        raise ValidationFailed({"charges": [f"Between 1 and {MAX_ITEMS} items."]})
    results: list[BatchResult | None] = [None] * len(items)
    # Only ids a client could have reach the query (PostgreSQL refuses NUL in text).
    wanted = {
        i.service_client_id for i in items if len(i.service_client_id) <= 128 and is_printable_text(i.service_client_id)
    }
    clients = {
        c.service_client_id: c
        for c in Client.objects.filter(workspace=workspace, service_client_id__in=wanted).select_related("workspace")
    }
    wallets = _wallets(workspace, list(clients.values()), now)
    candidates: list[_Pending] = []
    # A wallet opened before its workspace changed currency goes through the single call.
    singles: list[tuple[int, Client, ChargeRequest]] = []
    for index, item in enumerate(items):
        request = item.request
        try:
            validate_charge_request(request)
            client = clients.get(item.service_client_id)
            if client is None:
                raise ClientNotFound(f"No client {item.service_client_id!r} in workspace {workspace.name!r}.")
            wallet_id, wallet_currency = wallets[client.pk]
            if wallet_currency != workspace.currency:
                singles.append((index, client, request))
                continue
            currency = request.currency or wallet_currency
            if currency != wallet_currency:
                raise CurrencyMismatch(f"The wallet holds {wallet_currency}, not {currency}.")
        except BillyError as e:
            results[index] = BatchResult(status=e.spec.http_status, charge_id=request.charge_id, error=e)
            continue
        ttl, fingerprint = charge_terms(client=client, request=request, currency=currency)
        candidates.append(_Pending(index, client, wallet_id, request, ttl, fingerprint))

    with transaction.atomic():
        fresh, duplicates = _settle_repeats(workspace, candidates, results)
        accepted = _decide(fresh, results)
        inserted = _insert(workspace, accepted, now)
        for pending in accepted:
            charge_pk = inserted.get(pending.request.charge_id)
            if charge_pk is not None:
                results[pending.index] = BatchResult(
                    status=201, charge_id=pending.request.charge_id, charge=_as_created(pending, charge_pk, now)
                )
        late = [p for p in accepted if p.request.charge_id not in inserted]
    # A concurrent call took some charge_ids after we looked: those are repeats now.
    if late:
        _settle_repeats(workspace, late, results)
    for index, client, request in singles:
        try:
            charge, created = post_charge(client=client, request=request, now=now)
        except BillyError as e:
            results[index] = BatchResult(status=e.spec.http_status, charge_id=request.charge_id, error=e)
        else:
            results[index] = BatchResult(
                status=201 if created else 200, charge_id=request.charge_id, charge=charge if created else None
            )
    # A repeat inside the batch answers like a repeat of the item it repeats.
    first_index = {p.request.charge_id: p.index for p in fresh}
    for p in duplicates:
        first = results[first_index[p.request.charge_id]]
        results[p.index] = BatchResult(status=200, charge_id=first.charge_id) if first.status in (200, 201) else first
    return results  # type: ignore[return-value]


def _wallets(workspace: Workspace, clients: list[Client], now: dt.datetime) -> dict[int, tuple[int, str]]:
    """(wallet id, currency) per client id, creating missing wallets in one statement."""

    def load():
        return {
            c: (w, cur)
            for c, w, cur in Account.objects.filter(client__in=clients).values_list("client_id", "id", "currency")
        }

    existing = load()
    missing = [c for c in clients if c.pk not in existing]
    if missing:
        Account.objects.bulk_create(
            [
                Account(
                    workspace=workspace, kind=Account.Kind.WALLET, client=c, currency=workspace.currency, created_at=now
                )
                for c in missing
            ],
            ignore_conflicts=True,
        )
        existing = load()
    return existing


def _settle_repeats(
    workspace: Workspace, pending: list[_Pending], results: list
) -> tuple[list[_Pending], list[_Pending]]:
    """Answer items whose charge_id exists; return (new items, repeats of an earlier new item)."""
    stored = dict(
        Charge.objects.filter(workspace=workspace, charge_id__in=[p.request.charge_id for p in pending]).values_list(
            "charge_id", "request"
        )
    )
    fresh, duplicates, first_body = [], [], {}
    for p in pending:
        charge_id = p.request.charge_id
        body = stored.get(charge_id, first_body.get(charge_id))
        if body is None:
            first_body[charge_id] = p.fingerprint
            fresh.append(p)
        elif body != p.fingerprint:
            error = IdempotencyConflict(f"charge_id {charge_id!r} was already used with another body.")
            results[p.index] = BatchResult(status=409, charge_id=charge_id, error=error)
        elif charge_id in stored:
            results[p.index] = BatchResult(status=200, charge_id=charge_id)
        else:
            duplicates.append(p)
    return fresh, duplicates


def _decide(pending: list[_Pending], results: list) -> list[_Pending]:
    """Lock the wallets (id order) and accept items in order while each wallet has the money."""
    available = {wallet_id: figures[0] for wallet_id, figures in lock_wallets([p.wallet_id for p in pending]).items()}
    accepted = []
    for p in pending:
        amount = p.request.amount
        if amount > available[p.wallet_id]:
            error = InsufficientFunds(
                f"The wallet has less than {format_amount(amount)} available.",
                details={"amount": format_amount(amount), "currency": p.client.workspace.currency},
            )
            results[p.index] = BatchResult(status=422, charge_id=p.request.charge_id, error=error)
            continue
        available[p.wallet_id] -= amount
        accepted.append(p)
    return accepted


def _as_created(p: _Pending, charge_pk: int | None, now: dt.datetime) -> Charge:
    """The charge row as the statement wrote it, without reading it back."""
    request = p.request
    charge = Charge(
        pk=charge_pk,
        workspace_id=p.client.workspace_id,
        charge_id=request.charge_id,
        client=p.client,
        wallet_id=p.wallet_id,
        product=request.product,
        amount=request.amount,
        currency=p.client.workspace.currency,
        hold=request.hold,
        status=Charge.Status.HELD if request.hold else Charge.Status.COMPLETED,
        captured=0 if request.hold else request.amount,
        description=request.description,
        hold_expires_at=now + dt.timedelta(seconds=p.ttl) if p.ttl else None,
        request=p.fingerprint,
        created_at=now,
        updated_at=now,
    )
    charge._state.adding, charge._state.db = False, "default"
    return charge


_INSERT_SQL = """
WITH input AS (
    SELECT * FROM unnest(%(charge_id)s::text[], %(client_id)s::bigint[], %(wallet_id)s::bigint[],
                         %(product)s::text[], %(amount)s::bigint[], %(hold)s::boolean[], %(description)s::text[],
                         %(hold_expires_at)s::timestamptz[], %(transaction_id)s::bigint[], %(request)s::text[],
                         %(event)s::text[])
        AS c(charge_id, client_id, wallet_id, product, amount, hold, description, hold_expires_at, transaction_id,
             request, event)
), inserted AS (
    INSERT INTO charge (workspace_id, charge_id, client_id, wallet_id, product, amount, currency, hold, status,
                        captured, refunded, description, hold_expires_at, cancel_reason, transaction_id, request,
                        created_at, updated_at)
    SELECT %(workspace)s, charge_id, client_id, wallet_id, product, amount, %(currency)s, hold,
           CASE WHEN hold THEN 'HELD' ELSE 'COMPLETED' END, CASE WHEN hold THEN 0 ELSE amount END, 0,
           description, hold_expires_at, '', transaction_id, request::jsonb, %(now)s, %(now)s
      FROM input
     ORDER BY charge_id  -- one order for every batch: concurrent batches cannot deadlock on the key
    ON CONFLICT (workspace_id, charge_id) DO NOTHING
    RETURNING id, charge_id, wallet_id, product, amount, hold, transaction_id
), transactions AS (
    INSERT INTO ledger_transaction (id, workspace_id, kind, description, created_at)
    SELECT transaction_id, %(workspace)s, 'CHARGE', product, %(now)s FROM inserted WHERE NOT hold
), entries AS (
    INSERT INTO ledger_entry (transaction_id, account_id, amount, currency, created_at)
    SELECT i.transaction_id, leg.account, leg.amount, %(currency)s, %(now)s
      FROM inserted i
      CROSS JOIN LATERAL (VALUES (i.wallet_id, -i.amount), (%(revenue)s::bigint, i.amount)) AS leg(account, amount)
     WHERE NOT i.hold
), wallets AS (
    UPDATE ledger_account a
       SET balance = a.balance - d.debit, held = a.held + d.held, net_consumption = a.net_consumption + d.debit
      FROM (SELECT wallet_id,
                   sum(CASE WHEN hold THEN 0 ELSE amount END) AS debit,
                   sum(CASE WHEN hold THEN amount ELSE 0 END) AS held
              FROM inserted GROUP BY wallet_id) AS d
     WHERE a.id = d.wallet_id
), events AS (
    INSERT INTO event (workspace_id, type, data, created_at)
    SELECT %(workspace)s, CASE WHEN i.hold THEN 'charge.held' ELSE 'charge.completed' END, input.event::jsonb,
           %(now)s
      FROM inserted i JOIN input USING (charge_id)
)
SELECT id, charge_id FROM inserted
"""


def _insert(workspace: Workspace, accepted: list[_Pending], now: dt.datetime) -> dict[str, int]:
    """Write the accepted charges with their ledger transactions, entries, wallet figures and events
    in one statement; returns the id of each charge inserted (a charge_id taken meanwhile is not)."""
    if not accepted:
        return {}
    currency = workspace.currency
    completed = [p for p in accepted if not p.request.hold]
    with connection.cursor() as cursor:
        # Transaction ids are drawn first so each charge row can name its own.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('ledger_transaction', 'id')) FROM generate_series(1, %s)",
            [len(completed)],
        )
        transaction_of = {p.request.charge_id: row[0] for p, row in zip(completed, cursor.fetchall(), strict=True)}
        expires = {p.request.charge_id: now + dt.timedelta(seconds=p.ttl) for p in accepted if p.ttl}
        cursor.execute(
            _INSERT_SQL,
            {
                "workspace": workspace.pk,
                "currency": currency,
                "now": now,
                "revenue": system_account(
                    workspace_id=workspace.pk, kind=Account.Kind.REVENUE, currency=currency, now=now
                ).pk,
                "charge_id": [p.request.charge_id for p in accepted],
                "client_id": [p.client.pk for p in accepted],
                "wallet_id": [p.wallet_id for p in accepted],
                "product": [p.request.product for p in accepted],
                "amount": [p.request.amount for p in accepted],
                "hold": [p.request.hold for p in accepted],
                "description": [p.request.description for p in accepted],
                "hold_expires_at": [expires.get(p.request.charge_id) for p in accepted],
                "transaction_id": [transaction_of.get(p.request.charge_id) for p in accepted],
                "request": [json.dumps(p.fingerprint) for p in accepted],
                "event": [json.dumps(created_facts(_as_created(p, None, now), now)) for p in accepted],
            },
        )
        return {charge_id: charge_pk for charge_pk, charge_id in cursor.fetchall()}
