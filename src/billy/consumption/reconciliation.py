"""Reconciliation of a workspace's month: per client, billy's ledger consumption by the month rule,
what billy reported for the month, the month's act, and Balance's consumed total against billy's
last report; every difference gets a reason. One set-based statement writes every line.

Figures per wallet order (cumulative totals "as of" a moment come from the reports billy kept):
- ledger L: the month's consumption entries (`months.CONSUMPTION_ENTRIES` within `month_span`);
- reported R: the total reported as of the month's end less the total reported as of its start;
- act A: the acts dated within the month.
Differences (amount = billy's side minus Balance's):
- NOT_YET_REPORTED (L - R): the ledger has consumption the reports for the month do not cover
  (not sent yet, or lost while Balance was down and not caught up);
- DECREASE_REFUSED: the part of a negative L - R that is a decrease Balance refused (a refund
  larger than what was charged since the last report), up to the refused total less the reported
  one; it stays until the total moves up again;
- REPORTED_LATE: a report for the month sent after the month ended that Balance had already
  acted without (+, it goes into the next act), and in the next month the same amount (-) that
  arrived in that month's act;
- the rest of the act's difference: MISSING_ACT when Balance formed no act for the month;
  CHANGED_IN_BALANCE when Balance's consumed total differs from billy's last accepted report
  (someone changed it behind billy's back); unknown otherwise.
The differences of a line add up to its ledger consumption less its act (0 when there is none).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

from billy.workspaces.models import Workspace

from .models import Reconciliation
from .months import CONSUMPTION_ENTRIES, local_day_sql, month_span, next_month

_LINES_SQL = f"""
WITH orders AS (
    SELECT o.wallet_id, o.order_id, a.client_id, o.reported_total, o.balance_total, o.refused_total
      FROM consumption_order o JOIN ledger_account a ON a.id = o.wallet_id
     WHERE o.workspace_id = %(ws)s
), ledger AS (
    SELECT c.wallet_id, sum(c.amount) AS amount
      FROM ({CONSUMPTION_ENTRIES} AND t.workspace_id = %(ws)s
            AND t.created_at >= %(start)s AND t.created_at < %(end)s) c
     GROUP BY c.wallet_id
), reports AS (  /* accepted totals never go down, so the highest as of a moment is the one as of it */
    SELECT r.wallet_id,
           coalesce(max(r.consumed_total) FILTER (WHERE r.as_of < %(start)s), 0) AS r_start,
           coalesce(max(r.consumed_total) FILTER (WHERE r.as_of < %(start)s AND r.sent_at < %(start)s), 0)
               AS in_time_start,
           max(r.consumed_total) AS r_end,
           coalesce(max(r.consumed_total) FILTER (WHERE r.sent_at < %(end)s), 0) AS in_time_end
      FROM consumption_report r
     WHERE r.workspace_id = %(ws)s AND r.code = 'SUCCESS' AND r.as_of < %(end)s
     GROUP BY r.wallet_id
), acts AS (
    SELECT a.order_id,
           sum(a.amount) FILTER (WHERE a.act_date >= %(first_day)s) AS amount,
           coalesce(sum(a.amount) FILTER (WHERE a.act_date < %(first_day)s), 0) AS acted_start,
           sum(a.amount) AS acted_end
      FROM consumption_act a
     WHERE a.workspace_id = %(ws)s AND a.act_date < %(next_first_day)s
     GROUP BY a.order_id
), figures AS (
    SELECT o.client_id, o.order_id, o.reported_total, o.balance_total,
           coalesce(l.amount, 0) AS ledger,
           coalesce(r.r_end, 0) - coalesce(r.r_start, 0) AS reported,
           acts.amount AS act,
           CASE WHEN o.refused_total IS NOT NULL
                 AND coalesce(l.amount, 0) - (coalesce(r.r_end, 0) - coalesce(r.r_start, 0)) < 0
                THEN greatest(coalesce(l.amount, 0) - (coalesce(r.r_end, 0) - coalesce(r.r_start, 0)),
                              least(o.refused_total - o.reported_total, 0))
                ELSE 0 END AS refused,
           least(greatest(coalesce(r.r_end, 0) - coalesce(acts.acted_end, 0), 0),
                 coalesce(r.r_end - r.in_time_end, 0)) AS late_out,
           least(greatest(coalesce(r.r_start, 0) - coalesce(acts.acted_start, 0), 0),
                 coalesce(r.r_start - r.in_time_start, 0)) AS late_in
      FROM orders o
      LEFT JOIN ledger l ON l.wallet_id = o.wallet_id
      LEFT JOIN reports r ON r.wallet_id = o.wallet_id
      LEFT JOIN acts ON acts.order_id = o.order_id
), reasoned AS (
    SELECT f.*, array_remove(ARRAY[
        CASE WHEN ledger - reported - refused <> 0
             THEN jsonb_build_object('reason', 'NOT_YET_REPORTED', 'amount', ledger - reported - refused) END,
        CASE WHEN refused <> 0
             THEN jsonb_build_object('reason', 'DECREASE_REFUSED', 'amount', refused) END,
        CASE WHEN late_out <> 0
             THEN jsonb_build_object('reason', 'REPORTED_LATE', 'amount', late_out) END,
        CASE WHEN late_in <> 0
             THEN jsonb_build_object('reason', 'REPORTED_LATE', 'amount', -late_in) END,
        CASE WHEN reported - coalesce(act, 0) - late_out + late_in <> 0
             THEN jsonb_build_object(
                 'reason', CASE WHEN act IS NULL THEN 'MISSING_ACT'
                                WHEN balance_total IS DISTINCT FROM reported_total THEN 'CHANGED_IN_BALANCE'
                                ELSE 'UNKNOWN' END,
                 'amount', reported - coalesce(act, 0) - late_out + late_in) END
    ], NULL) AS differences
      FROM figures f
     WHERE ledger <> 0 OR reported <> 0 OR act IS NOT NULL OR late_in <> 0
), lines AS (
    INSERT INTO consumption_reconciliation_line
           (reconciliation_id, client_id, order_id, ledger, reported, act, balance_total, reported_total,
            differences, mismatch)
    SELECT %(run)s, client_id, order_id, ledger, reported, act, balance_total, reported_total,
           to_jsonb(differences), cardinality(differences) > 0
      FROM reasoned
    RETURNING ledger, reported, act, mismatch
)
UPDATE consumption_reconciliation
   SET clients = s.clients, mismatches = s.mismatches, ledger_total = s.ledger, reported_total = s.reported,
       act_total = s.act
  FROM (SELECT count(*) AS clients, count(*) FILTER (WHERE mismatch) AS mismatches,
               coalesce(sum(ledger), 0) AS ledger, coalesce(sum(reported), 0) AS reported,
               coalesce(sum(act), 0) AS act
          FROM lines) s
 WHERE id = %(run)s
"""  # noqa: S608 (constant fragments only)


def reconcile_month(*, workspace: Workspace, month: dt.date, now: dt.datetime) -> Reconciliation:
    """Reconcile the workspace's month with what billy holds (fetch the month's acts and Balance's
    totals first: `acts.fetch_acts`, `acts.read_balance_totals`); a stored report, one per run."""
    start, end = month_span(month, time_zone=workspace.time_zone)
    with transaction.atomic():
        run = Reconciliation.objects.create(
            workspace=workspace, month=month.replace(day=1), currency=workspace.currency, created_at=now
        )
        with connection.cursor() as cursor:
            cursor.execute(
                _LINES_SQL,
                {
                    "ws": workspace.pk,
                    "run": run.pk,
                    "start": start,
                    "end": end,
                    "first_day": month.replace(day=1),
                    "next_first_day": next_month(month),
                },
            )
    run.refresh_from_db()
    return run


_DAILY_SQL = f"""
WITH days AS (
    SELECT d::date AS day FROM generate_series(%(first_day)s::date, %(last_day)s::date, '1 day') AS d
), billy AS (
    SELECT {local_day_sql("c.posted_at")} AS day, sum(c.amount) AS amount
      FROM ({CONSUMPTION_ENTRIES} AND t.workspace_id = %(ws)s
            AND t.created_at >= %(start)s AND t.created_at < %(end)s) c
     WHERE %(client)s::bigint IS NULL OR c.wallet_id = (SELECT id FROM ledger_account WHERE client_id = %(client)s)
     GROUP BY 1
), reported AS (
    SELECT {local_day_sql("x.as_of")} AS day, sum(x.increase) AS amount
      FROM (SELECT r.as_of, r.consumed_total - coalesce(lag(r.consumed_total) OVER (
                       PARTITION BY r.wallet_id ORDER BY r.as_of, r.id), 0) AS increase
              FROM consumption_report r
             WHERE r.workspace_id = %(ws)s AND r.code = 'SUCCESS' AND r.as_of < %(end)s
               AND (%(client)s::bigint IS NULL
                    OR r.wallet_id = (SELECT id FROM ledger_account WHERE client_id = %(client)s))) x
     WHERE x.as_of >= %(start)s
     GROUP BY 1
)
SELECT days.day, coalesce(billy.amount, 0)::bigint, coalesce(reported.amount, 0)::bigint
  FROM days LEFT JOIN billy USING (day) LEFT JOIN reported USING (day)
 ORDER BY days.day
"""  # noqa: S608 (constant fragments only)


def daily_consumption(
    *, workspace: Workspace, month: dt.date, client_pk: int | None = None
) -> list[tuple[dt.date, int, int]]:
    """Each day of the month: billy's consumption by the month rule, and what billy's accepted
    reports told Balance was consumed that day (by their as-of moment), for one client or all."""
    start, end = month_span(month, time_zone=workspace.time_zone)
    with connection.cursor() as cursor:
        cursor.execute(
            _DAILY_SQL,
            {
                "ws": workspace.pk,
                "start": start,
                "end": end,
                "time_zone": workspace.time_zone,
                "first_day": month.replace(day=1),
                "last_day": next_month(month) - dt.timedelta(days=1),
                "client": client_pk,
            },
        )
        return cursor.fetchall()
