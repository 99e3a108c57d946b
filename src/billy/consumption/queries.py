"""Reads of consumption: a client's acts, a month's stored reconciliation and its mismatches."""

from __future__ import annotations

import datetime as dt

from django.db import connection

from billy.clients.models import Client
from billy.core.errors import BillyError
from billy.workspaces.models import Workspace

from .models import Act, Reconciliation, ReconciliationLine


class ReconciliationNotFound(BillyError):
    code = "reconciliation_not_found"
    default_message = "The month has not been reconciled in this workspace yet."


def client_acts(*, client: Client, date_from: dt.date | None, date_to: dt.date | None):
    """The client's acts dated in [date_from, date_to), newest first."""
    acts = Act.objects.filter(client=client)
    if date_from is not None:
        acts = acts.filter(act_date__gte=date_from)
    if date_to is not None:
        acts = acts.filter(act_date__lt=date_to)
    return acts.order_by("-act_date", "-id")


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
