"""Reads of consumption: a client's acts, a month's stored reconciliation and its mismatches."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q

from billy.clients.models import Client
from billy.core.errors import BillyError, ValidationFailed
from billy.core.pagination import check_limit, decode_cursor, encode_cursor
from billy.workspaces.models import Workspace

from .models import Act, Reconciliation, ReconciliationLine


class ReconciliationNotFound(BillyError):
    code = "reconciliation_not_found"
    default_message = "The month has not been reconciled in this workspace yet."


class InvalidPeriod(BillyError):
    code = "invalid_period"
    default_message = "The period's start is after its end."


def client_acts(*, client: Client, date_from: dt.date | None, date_to: dt.date | None):
    """The client's acts dated in [date_from, date_to), newest first; InvalidPeriod when `from` is
    after `to`."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidPeriod(details={"from": date_from.isoformat(), "to": date_to.isoformat()})
    acts = Act.objects.filter(client=client)
    if date_from is not None:
        acts = acts.filter(act_date__gte=date_from)
    if date_to is not None:
        acts = acts.filter(act_date__lt=date_to)
    return acts.order_by("-act_date", "-id")


def client_acts_page(
    *, client: Client, date_from: dt.date | None, date_to: dt.date | None, limit: int, cursor: str | None
) -> tuple[list[Act], str | None]:
    """A page of `client_acts` after the cursor, and the next page's cursor (None on the last)."""
    check_limit(limit)
    acts = client_acts(client=client, date_from=date_from, date_to=date_to)
    after = decode_cursor(cursor, "act", int, int)
    if after is not None:
        try:
            day, act_pk = dt.date.fromordinal(after[0]), after[1]
        except (ValueError, OverflowError) as e:
            raise ValidationFailed({"cursor": ["Not a cursor this list handed out."]}) from e
        acts = acts.filter(Q(act_date__lt=day) | Q(act_date=day, id__lt=act_pk))
    page = list(acts[: limit + 1])
    if len(page) <= limit:
        return page, None
    last = page[limit - 1]
    return page[:limit], encode_cursor("act", last.act_date.toordinal(), last.pk)


def get_reconciliation(*, workspace: Workspace, month: dt.date) -> Reconciliation:
    """The month's latest reconciliation; ReconciliationNotFound when it has none."""
    run = Reconciliation.objects.filter(workspace=workspace, month=month).order_by("-id").first()
    if run is None:
        raise ReconciliationNotFound(details={"month": f"{month:%Y-%m}"})
    return run


def mismatches(*, reconciliation: Reconciliation, limit: int, after: int = 0) -> list[ReconciliationLine]:
    """The reconciliation's lines with a difference, in line order, after the line id `after`."""
    return list(
        reconciliation.lines.filter(mismatch=True, id__gt=after).select_related("client").order_by("id")[:limit]
    )


def reason_totals(*, reconciliation: Reconciliation) -> list[tuple[str, int, int]]:
    """(reason, lines, amount) over the reconciliation's differences, by reason."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d->>'reason', count(*), sum((d->>'amount')::bigint)::bigint"
            "  FROM consumption_reconciliation_line l, jsonb_array_elements(l.differences) d"
            " WHERE l.reconciliation_id = %s AND l.mismatch GROUP BY 1 ORDER BY 1",
            [reconciliation.pk],
        )
        return cursor.fetchall()
