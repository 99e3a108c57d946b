"""A client's acts and a workspace's month reconciliation over HTTP (read-only: Balance forms the
acts, billy fetches them; reconciliation runs as a job or with `billy reconcile`)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from billy.consumption import queries
from billy.consumption.models import Act, Reason, Reconciliation, ReconciliationLine
from billy.consumption.months import parse_month
from billy.core.money import format_amount
from billy.core.pagination import MAX_LIMIT, decode_id_cursor, encode_id_cursor
from billy.workspaces.queries import get_workspace_for

from .contracts import DATE_PATTERN, parse_day
from .fields import Timestamp, currency, money
from .openapi import raises
from .scope import CLIENT_PATH, client_in_scope
from .strict import one_of

router = Router(tags=["acts"])
reconciliations_router = Router(tags=["reconciliations"])

DAY = {"format": "date", "pattern": DATE_PATTERN}
MONTH_PATTERN = r"^2[0-9]{3}-(0[1-9]|1[0-2])$"
ReasonName = one_of(Reason)


class ActOut(Schema):
    act_id: int = Field(description="Balance's act id.")
    number: str = Field(description="Balance's act number.")
    act_date: dt.date = Field(description="The last day of the month it covers.")
    amount: str = money("VAT included.")
    vat: str = money()
    currency: str = currency()
    contract_number: int = Field(description="Balance's contract id.")
    order_id: int = Field(description="Balance's wallet order.")


class ActPage(Schema):
    acts: list[ActOut]
    next_cursor: str | None = Field(description="The next page's cursor; null on the last page.")


class ActFilters(Schema):
    date_from: str | None = Field(
        None, alias="from", description="Acts dated on or after this day.", json_schema_extra=DAY
    )
    date_to: str | None = Field(None, alias="to", description="Acts dated before this day.", json_schema_extra=DAY)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


def act_out(act: Act) -> ActOut:
    return ActOut(
        act_id=act.balance_act_id,
        number=act.number,
        act_date=act.act_date,
        amount=format_amount(act.amount),
        vat=format_amount(act.vat),
        currency=act.currency,
        contract_number=act.balance_contract_id,
        order_id=act.order_id,
    )


@router.get(CLIENT_PATH + "/acts", response={200: ActPage}, summary="The client's acts")
@raises("client_not_found", "validation_failed", "invalid_period")
def list_acts(request, workspace: str, service_client_id: str, filters: Query[ActFilters]):
    """The acts Balance formed for the client's wallet order, dated in [`from`, `to`), newest first
    (`invalid_period` when `from` is after `to`); `next_cursor` is null on the last page. billy
    fetches them daily and when a month is reconciled; they never change once fetched."""
    _, client = client_in_scope(request, workspace, service_client_id)
    date_from = parse_day("from", filters.date_from) if filters.date_from else None
    date_to = parse_day("to", filters.date_to) if filters.date_to else None
    acts, next_cursor = queries.client_acts_page(
        client=client, date_from=date_from, date_to=date_to, limit=filters.limit, cursor=filters.cursor
    )
    return Status(200, ActPage(acts=[act_out(a) for a in acts], next_cursor=next_cursor))


class Difference(Schema):
    reason: ReasonName = Field(
        description="NOT_YET_REPORTED, DECREASE_REFUSED (a refund Balance refused to take off), REPORTED_LATE"
        " (into the next act), CHANGED_IN_BALANCE, MISSING_ACT or UNKNOWN."
    )
    amount: str = money("billy's side minus Balance's.")


class LineOut(Schema):
    client: str = Field(description="The service's client id.")
    order_id: int = Field(description="Balance's wallet order.")
    ledger: str = money("billy's consumption in the month (the month rule).")
    reported: str = money("What billy reported for the month.")
    act: str | None = money("The month's act; null when Balance formed none.")
    balance_consumed_total: str | None = money("Balance's cumulative consumed total when reconciled.")
    reported_total: str = money("billy's last accepted cumulative report.")
    differences: list[Difference]


class ReconciliationOut(Schema):
    month: str = Field(pattern=MONTH_PATTERN, examples=["2026-11"])
    currency: str = currency()
    clients: int
    mismatches: int
    ledger_total: str = money()
    reported_total: str = money()
    act_total: str = money()
    reconciled_at: Timestamp
    lines: list[LineOut] = Field(description="The lines with a difference, a page of them.")
    next_cursor: str | None


class LineFilters(Schema):
    limit: int = Field(100, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


def _money_or_none(amount: int | None) -> str | None:
    return None if amount is None else format_amount(amount)


def line_out(line: ReconciliationLine) -> LineOut:
    return LineOut(
        client=line.client.service_client_id,
        order_id=line.order_id,
        ledger=format_amount(line.ledger),
        reported=format_amount(line.reported),
        act=_money_or_none(line.act),
        balance_consumed_total=_money_or_none(line.balance_total),
        reported_total=format_amount(line.reported_total),
        differences=[Difference(reason=d["reason"], amount=format_amount(d["amount"])) for d in line.differences],
    )


def reconciliation_out(run: Reconciliation, lines: list[ReconciliationLine], next_cursor: str | None):
    return ReconciliationOut(
        month=f"{run.month:%Y-%m}",
        currency=run.currency,
        clients=run.clients,
        mismatches=run.mismatches,
        ledger_total=format_amount(run.ledger_total),
        reported_total=format_amount(run.reported_total),
        act_total=format_amount(run.act_total),
        reconciled_at=run.created_at,
        lines=[line_out(line) for line in lines],
        next_cursor=next_cursor,
    )


@reconciliations_router.get(
    "/workspaces/{workspace}/reconciliations/{month}", response={200: ReconciliationOut}, summary="A reconciliation"
)
@raises("invalid_month", "reconciliation_not_found")
def get_reconciliation(request, workspace: str, month: str, filters: Query[LineFilters]):
    """The month's latest reconciliation (`YYYY-MM`): totals, and its lines with a difference, a
    page at a time (`next_cursor` is null on the last page)."""
    ws = get_workspace_for(request.auth, workspace)
    run = queries.get_reconciliation(workspace=ws, month=parse_month(month))
    lines = queries.mismatches(reconciliation=run, limit=filters.limit, after=decode_id_cursor(filters.cursor) or 0)
    next_cursor = encode_id_cursor(lines[-1].pk) if len(lines) == filters.limit else None
    return Status(200, reconciliation_out(run, lines, next_cursor))
