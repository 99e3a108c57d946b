"""Many charges in one call, set-based: a fixed number of statements for up to 1,000 items.

Each item behaves like `post_charge`: validated alone, idempotent by its charge_id, refused alone
when its wallet lacks the money. The wallets are locked once (in id order, so concurrent batches
cannot deadlock), items are decided in order against the money each wallet has, and all rows go
in with multi-row statements. No savepoint per item: PostgreSQL's subtransaction cache holds 64.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import orjson
from django.db import DatabaseError, IntegrityError, transaction

from billy.clients.models import Client
from billy.clients.queries import ClientNotFound
from billy.core.errors import BillyError, IdempotencyConflict, ValidationFailed
from billy.core.money import format_amount
from billy.core.postgresql import prepared_cursor
from billy.core.validation import check_text, is_printable_text
from billy.ledger.models import LedgerTransaction
from billy.ledger.postings import (
    InsufficientFunds,
    draw_transaction_ids,
    get_or_create_wallets,
    lock_wallets,
    lock_wallets_drawing,
    spend_many_ctes,
)
from billy.workspaces.models import Workspace

from .models import Charge
from .operations import (
    ChargeRequest,
    CurrencyMismatch,
    PreparedCharge,
    charge_terms,
    created_event,
    insufficient_funds,
    new_charge,
    post_charge,
    revenue_account,
    validate_charge_request,
    write_prepared_charge,
)
from .queries import get_charges

MAX_ITEMS = 1000


@dataclass(frozen=True)
class BatchItem:
    service_client_id: str
    request: ChargeRequest


@dataclass(frozen=True)
class UnreadableItem:
    """An item its transport could not read (a malformed amount, say): answered with `error` alone."""

    charge_id: str
    error: BillyError


@dataclass
class BatchResult:
    status: int  # 201 created, 200 repeat, else the error's HTTP status
    charge_id: str
    error: BillyError | None = None
    charge: Charge | None = None  # the charge (new or repeated) when there is no error


@dataclass
class _Pending:
    index: int
    client: Client
    wallet_id: int
    currency: str
    request: ChargeRequest
    ttl: int | None
    fingerprint: dict


def post_charges(
    *, workspace: Workspace, items: list[BatchItem | UnreadableItem], now: dt.datetime
) -> list[BatchResult]:
    """Results in the items' order, each with its charge or its own error. Raises ValidationFailed
    only for a batch that is empty or larger than MAX_ITEMS."""
    if not 1 <= len(items) <= MAX_ITEMS:
        raise ValidationFailed({"charges": [f"Between 1 and {MAX_ITEMS} items."]})
    results: list[BatchResult | None] = [
        BatchResult(status=i.error.spec.http_status, charge_id=i.charge_id, error=i.error)
        if isinstance(i, UnreadableItem)
        else None
        for i in items
    ]
    readable = [(index, item) for index, item in enumerate(items) if isinstance(item, BatchItem)]
    _post(workspace, readable, results, now)
    # Repeats answer with the charge as it is now: read in two queries for the whole batch.
    repeats = [r.charge_id for r in results if r.error is None and r.charge is None]
    if repeats:
        stored = {c.charge_id: c for c in get_charges(workspace=workspace, charge_ids=repeats)}
        for r in results:
            if r.error is None and r.charge is None:
                r.charge = stored[r.charge_id]
    return results  # type: ignore[return-value]


def _validate_client_id(service_client_id: str) -> None:
    """An item's client id that no client could have (empty, control characters, too long) is
    invalid input (422), not a client billy does not know (404)."""
    errors: dict[str, list[str]] = {}
    check_text(errors, "service_client_id", service_client_id, max_length=128)
    if errors:
        raise ValidationFailed(errors)


def _post(
    workspace: Workspace, items: list[tuple[int, BatchItem]], results: list[BatchResult | None], now: dt.datetime
) -> None:
    # Only ids a client could have reach the query (PostgreSQL refuses NUL in text).
    wanted = {
        i.service_client_id
        for _, i in items
        if len(i.service_client_id) <= 128 and is_printable_text(i.service_client_id)
    }
    clients = {c.service_client_id: c for c in Client.objects.filter(workspace=workspace, service_client_id__in=wanted)}
    for client in clients.values():
        client._state.fields_cache["workspace"] = workspace  # one workspace for all, not one per row
    wallets = get_or_create_wallets(workspace=workspace, client_ids=[c.pk for c in clients.values()], now=now)
    candidates: list[_Pending] = []
    # A wallet opened before its workspace changed currency goes through the single call.
    singles: list[tuple[int, Client, ChargeRequest]] = []
    for index, item in items:
        request = item.request
        try:
            _validate_client_id(item.service_client_id)
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
        candidates.append(_Pending(index, client, wallet_id, currency, request, ttl, fingerprint))

    with transaction.atomic():
        fresh, duplicates = _settle_repeats(workspace, candidates, results)
        accepted = _decide(fresh, results)
        inserted = _insert(workspace, accepted, now)
        for pending in accepted:
            charge = inserted.get(pending.request.charge_id)
            if charge is not None:
                results[pending.index] = BatchResult(status=201, charge_id=charge.charge_id, charge=charge)
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
            results[index] = BatchResult(status=201 if created else 200, charge_id=request.charge_id, charge=charge)
    # A repeat inside the batch answers like a repeat of the item it repeats.
    first_index = {p.request.charge_id: p.index for p in fresh}
    for p in duplicates:
        first = results[first_index[p.request.charge_id]]
        results[p.index] = BatchResult(status=200, charge_id=first.charge_id) if first.status in (200, 201) else first


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
    """Lock the wallets and accept items in order while each wallet has the money."""
    funds = lock_wallets([p.wallet_id for p in pending])
    accepted = []
    for p in pending:
        if not funds.take(p.wallet_id, p.request.amount):
            error = InsufficientFunds(
                f"The wallet has less than {format_amount(p.request.amount)} available.",
                details={"amount": format_amount(p.request.amount), "currency": p.currency},
            )
            results[p.index] = BatchResult(status=422, charge_id=p.request.charge_id, error=error)
            continue
        accepted.append(p)
    return accepted


class _DecideAgain(Exception):
    """A charge of a group found its charge_id taken after the money was decided: decide one by one."""


Answer = tuple[tuple[Charge, bool] | None, BillyError | DatabaseError | None]


def write_group(group: list[PreparedCharge]) -> list[Answer]:
    """Charges of one wallet (its currency its workspace's) written in one transaction, each decided
    in order against the money left; per charge, what `write_prepared_charge` would answer: (charge,
    created) or its own error. When the wallet has the money for every charge and no charge_id is
    taken (the usual case), one statement writes them all (`_write_at_once`). Otherwise four round
    trips whatever the group's size: BEGIN, the wallet locked (with the ledger transaction ids
    drawn), one statement for every row, COMMIT.

    Repeats of an earlier charge of the group and charge_ids already taken (the insert skips them,
    or the money refused them) are answered one by one after the transaction, as the single
    statement answers them. When a
    taken charge_id had been counted against the money while another charge was refused for the
    lack of it, the group is rolled back and every charge is written one by one: the refusal may
    not have been right. A database error in the transaction fails the whole group, with nothing
    written; one in a charge written after it fails that charge alone."""
    workspace = group[0].client.workspace
    now = max(p.now for p in group)  # the group is written now: its charges say so
    answers: list[Answer | None] = [None] * len(group)
    members, seen = [], set()
    for i, p in enumerate(group):
        if p.request.charge_id not in seen:
            seen.add(p.request.charge_id)
            members.append(_Pending(i, p.client, p.wallet_id, p.currency, p.request, p.ttl, p.fingerprint))
    at_once = _write_at_once(workspace, members, now)
    if at_once is not None:
        for p in members:
            answers[p.index] = ((at_once[p.request.charge_id], True), None)
    else:
        _write_deciding(workspace, group, members, now, answers)
    # A charge refused for the money whose charge_id is taken is a repeat (or a conflict), as the
    # single statement answers it.
    refused = {group[i].request.charge_id: i for i, a in enumerate(answers) if a is not None and a[0] is None}
    if refused:
        taken = Charge.objects.filter(workspace_id=workspace.pk, charge_id__in=list(refused))
        for charge_id in taken.values_list("charge_id", flat=True):
            answers[refused[charge_id]] = None
    for index, answer in enumerate(answers):
        if answer is None:
            try:
                answers[index] = (write_prepared_charge(group[index]), None)
            except (BillyError, DatabaseError) as e:  # its own error: the charges answered before it stand
                answers[index] = (None, e)
    return answers  # type: ignore[return-value]


def _write_deciding(
    workspace: Workspace, group: list[PreparedCharge], members: list[_Pending], now: dt.datetime, answers: list
) -> None:
    """The group in one transaction: the wallet locked, each charge decided in order against the money
    left, every row in one statement. Fills `answers`; one left None is written on its own after."""
    try:
        with transaction.atomic():
            debits = sum(1 for p in members if not p.request.hold)
            funds, transaction_ids = lock_wallets_drawing([p.wallet_id for p in members], debits)
            accepted = []
            for p in members:
                if funds.take(p.wallet_id, p.request.amount):
                    accepted.append(p)
                else:
                    answers[p.index] = (None, insufficient_funds(p.request.amount, group[p.index].wallet_currency))
            inserted = _insert(workspace, accepted, now, transaction_ids=transaction_ids)
            if len(inserted) < len(accepted) and len(accepted) < len(members):
                raise _DecideAgain
            for p in accepted:
                charge = inserted.get(p.request.charge_id)
                if charge is not None:
                    answers[p.index] = ((charge, True), None)
    except _DecideAgain:
        answers[:] = [None] * len(group)


_COLUMNS = """charge_id text, client_id bigint, wallet_id bigint, product text, amount bigint, hold boolean,
             description text, metadata jsonb, hold_expires_at timestamptz, transaction_id bigint, request jsonb,
             event_type text, event_version smallint, event jsonb"""


def _insert_sql(*, input_cte: str, on_conflict: str, returning: str) -> str:
    """The statement that writes charges with their ledger transactions, entries, wallet figures and
    events: the charges go in first, and the ledger posts what went in."""
    return f"""{input_cte}, inserted AS (
    INSERT INTO charge (workspace_id, charge_id, client_id, wallet_id, product, amount, currency, hold, status,
                        captured, refunded, description, metadata, hold_expires_at, cancel_reason, transaction_id,
                        request, created_at, updated_at)
    SELECT %(workspace)s, charge_id, client_id, wallet_id, product, amount, %(currency)s, hold,
           CASE WHEN hold THEN 'HELD' ELSE 'COMPLETED' END, CASE WHEN hold THEN 0 ELSE amount END, 0,
           description, metadata::jsonb, hold_expires_at, '', transaction_id, request::jsonb, %(now)s, %(now)s
      FROM input
     ORDER BY charge_id  -- one order for every batch: concurrent batches cannot deadlock on the key
    {on_conflict}
    RETURNING {returning}
), spent AS (
    SELECT input.wallet_id, input.amount, input.hold, input.transaction_id, input.product AS description,
           json_build_object('charge_id', input.charge_id)::text AS transaction_source,
           input.event_type, input.event_version, input.event
      FROM inserted JOIN input USING (charge_id)
){spend_many_ctes(source="spent")}
SELECT {returning} FROM inserted
"""  # noqa: S608 (constant fragments only)


# A batch's charges on wallets already locked and decided (`_decide`): a charge_id taken meanwhile
# is skipped. One JSON parameter for every row: binding 14 arrays of 1,000 cost more than the statement.
_INSERT_SQL = _insert_sql(
    input_cte=f"WITH input AS (SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS c({_COLUMNS}))",  # noqa: S608
    on_conflict="ON CONFLICT (workspace_id, charge_id) DO NOTHING",
    returning="id, charge_id",
)

# A group of one wallet's charges at once, nothing decided beforehand (`_write_at_once`): the wallet
# is locked before any row goes in, the ledger transaction ids are drawn in the statement, and a
# taken charge_id (the unique key) or money the wallet lacks (its CHECK constraint) aborts it whole.
_AT_ONCE_SQL = _insert_sql(
    input_cte=f"""WITH locked AS (SELECT id FROM ledger_account WHERE id = %(wallet)s FOR UPDATE
), given AS (SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS c({_COLUMNS})
), input AS (
    SELECT charge_id, client_id, wallet_id, product, amount, hold, description, metadata, hold_expires_at,
           CASE WHEN hold THEN NULL ELSE nextval(pg_get_serial_sequence('ledger_transaction', 'id')) END
               AS transaction_id,
           request, event_type, event_version, event
      FROM given WHERE EXISTS (SELECT FROM locked)
)""",  # noqa: S608 (constant fragments only)
    on_conflict="",
    returning="id, charge_id, transaction_id",
)


def _insert(
    workspace: Workspace, accepted: list[_Pending], now: dt.datetime, *, transaction_ids: list[int] | None = None
) -> dict[str, Charge]:
    """Write the accepted charges with their ledger transactions, entries, wallet figures and events
    in one statement; returns each charge inserted (a charge_id taken meanwhile is not)."""
    if not accepted:
        return {}
    # Transaction ids are drawn first so each charge row can name its own.
    completed = [p for p in accepted if not p.request.hold]
    drawn = draw_transaction_ids(len(completed)) if transaction_ids is None else transaction_ids[: len(completed)]
    transaction_of = dict(zip([p.request.charge_id for p in completed], drawn, strict=True))
    return _run(_INSERT_SQL, workspace, accepted, now, transaction_of=transaction_of)


def _write_at_once(workspace: Workspace, members: list[_Pending], now: dt.datetime) -> dict[str, Charge] | None:
    """Every charge of one wallet's group written in one statement, outside a transaction, when the
    wallet has the money for all of them and none of their charge_ids is taken; else None, with
    nothing written (the statement aborted whole). One round trip, so the wallet's row lock is held
    only while PostgreSQL runs it and commits."""
    try:
        inserted = _run(_AT_ONCE_SQL, workspace, members, now, wallet_id=members[0].wallet_id)
    except IntegrityError:  # a charge_id taken, or the money short: decided charge by charge instead
        return None
    return inserted if len(inserted) == len(members) else None


def _run(
    statement: str,
    workspace: Workspace,
    accepted: list[_Pending],
    now: dt.datetime,
    *,
    transaction_of: dict[str, int] | None = None,
    wallet_id: int | None = None,
) -> dict[str, Charge]:
    currency = workspace.currency
    charges = [
        new_charge(
            client=p.client,
            wallet_id=p.wallet_id,
            currency=currency,
            request=p.request,
            ttl=p.ttl,
            fingerprint=p.fingerprint,
            now=now,
            transaction_id=transaction_of.get(p.request.charge_id) if transaction_of else None,
        )
        for p in accepted
    ]
    events = [created_event(c, now) for c in charges]
    with prepared_cursor() as cursor:
        cursor.execute(
            statement,
            {
                "workspace": workspace.pk,
                "wallet": wallet_id,
                "currency": currency,
                "now": now,
                "l_workspace": workspace.pk,
                "l_kind": LedgerTransaction.Kind.CHARGE,
                "l_counter": revenue_account(workspace.pk, currency, now).pk,
                "l_currency": currency,
                "l_now": now,
                "rows": orjson.dumps(
                    [
                        {
                            "charge_id": c.charge_id,
                            "client_id": c.client_id,
                            "wallet_id": c.wallet_id,
                            "product": c.product,
                            "amount": c.amount,
                            "hold": c.hold,
                            "description": c.description,
                            "metadata": c.metadata,
                            "hold_expires_at": c.hold_expires_at,
                            "transaction_id": c.transaction_id,
                            "request": c.request,
                            "event_type": e.type,
                            "event_version": e.version,
                            "event": e.data,
                        }
                        for c, e in zip(charges, events, strict=True)
                    ]
                ).decode(),
            },
        )
        rows = cursor.fetchall()
    by_id = {c.charge_id: c for c in charges}
    inserted = {}
    for pk, charge_id, *drawn in rows:
        charge = inserted[charge_id] = by_id[charge_id]
        charge.pk = pk
        if drawn:
            charge.transaction_id = drawn[0]
        charge._state.adding, charge._state.db = False, "default"
    return inserted
