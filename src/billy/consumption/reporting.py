"""Consumption reports: each wallet's cumulative net consumption sent to its Balance wallet order.

The charge path does nothing for it: the ledger already keeps each wallet's `net_consumption`, so
one join of the wallets with their order's last accepted report finds every order whose total
moved, however many charges moved it (a wallet charged a thousand times a minute costs one
report). A run sends the latest totals in batches of UpdateCampaigns; a report that would span a
month end is split at it (the total as of the month's last second, then the latest), so each
month's consumption reaches that month's act. Totals are cumulative, so a repeat, or a report
whose outcome was lost, is harmless; a decrease (a refund larger than what was charged since) is
refused by Balance and waits until the total moves again. While Balance is down or slow, nothing
is lost and charging is not touched: the totals wait and the next run catches up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from django.conf import settings
from django.db import connection, transaction

from billy.integrations.balance.port import Balance, BalanceCode, BalanceError, ConsumptionReport

from .models import Report
from .months import CONSUMPTION_ENTRIES, month_ends_sql

logger = logging.getLogger(__name__)

# A month end's total is reported as of the month's last second (Balance keeps whole seconds).
_BEFORE_MONTH_END = dt.timedelta(seconds=1)

_BIND_ORDERS_SQL = """
INSERT INTO consumption_order (workspace_id, wallet_id, order_id, reported_total, created_at, last_error)
SELECT a.workspace_id, a.id, c.wallet_order_id, 0, %(now)s, ''
  FROM contract c
  JOIN ledger_account a ON a.client_id = c.client_id AND a.currency = c.currency AND a.kind = 'WALLET'
 WHERE c.status = 'ACTIVE'
   AND NOT EXISTS (SELECT 1 FROM consumption_order o WHERE o.wallet_id = a.id)
ON CONFLICT DO NOTHING
"""

# Orders whose wallet's total may have moved since the last accepted report, each with its points
# in one statement (one snapshot of the ledger): its total at each month end after the moment
# reporting goes on from (the last report's, or the wallet's first consumption) up to the cutoff,
# then its total at the cutoff. A total at a moment is what was posted before it.
_PENDING_SQL = f"""
WITH o AS (
SELECT o.id, o.workspace_id, o.wallet_id, o.order_id, o.reported_total, o.refused_total,
       coalesce(o.reported_as_of, (SELECT min(c.posted_at) FROM ({CONSUMPTION_ENTRIES} AND e.account_id = a.id) c),
                a.created_at) AS since,
       a.net_consumption, w.time_zone
  FROM consumption_order o
  JOIN ledger_account a ON a.id = o.wallet_id
  JOIN workspace w ON w.id = o.workspace_id
 WHERE a.net_consumption <> o.reported_total
   AND o.id > %(after)s
 ORDER BY o.id
 LIMIT %(limit)s
)
SELECT o.id, o.workspace_id, o.wallet_id, o.order_id, o.reported_total, o.refused_total, p.as_of, p.month_end,
       (o.net_consumption - coalesce((
           SELECT sum(c.amount) FROM ({CONSUMPTION_ENTRIES} AND e.account_id = o.wallet_id) c
            WHERE c.posted_at >= p.as_of), 0))::bigint
  FROM o
 CROSS JOIN LATERAL (
       SELECT ends.end_at AS as_of, true AS month_end
         FROM ({month_ends_sql("o.since", "%(cutoff)s::timestamptz", "o.time_zone")}) ends
        UNION ALL
       SELECT %(cutoff)s::timestamptz, false
 ) p
 ORDER BY o.id, p.as_of
"""  # noqa: S608 (constant fragments only)


@dataclasses.dataclass
class ReportRun:
    """What one run did: orders reported, reports Balance accepted and refused, and the error that
    stopped it (Balance down or slow), if any."""

    orders: int = 0
    accepted: int = 0
    refused: int = 0
    error: str = ""


@dataclasses.dataclass(frozen=True)
class _Pending:
    pk: int
    workspace_id: int
    wallet_id: int
    order_id: int
    reported_total: int
    refused_total: int | None
    points: tuple[tuple[dt.datetime, bool, int], ...]  # (as of, a month end?, total), oldest first


def bind_orders(*, now: dt.datetime) -> int:
    """A reporting row for every wallet bound to a wallet order that has none yet."""
    with connection.cursor() as cursor:
        cursor.execute(_BIND_ORDERS_SQL, {"now": now})
        return cursor.rowcount


def cutoff(now: dt.datetime) -> dt.datetime:
    """The moment a run reports as of: every charge posted before it has committed."""
    return now - dt.timedelta(seconds=settings.BILLY_CONSUMPTION_GRACE_SECONDS)


def report_consumption(*, balance: Balance, now: dt.datetime, batch: int | None = None) -> ReportRun:
    """Send the cumulative total, as of the cutoff, of every order whose wallet's total moved, in
    batches; a month end is reported once the cutoff is past it.

    Stops at the first batch Balance does not take (unavailable, outcome unknown, a fault): the
    totals stay pending and the next run sends them again (cumulative, so a repeat is harmless)."""
    batch = batch or settings.BILLY_CONSUMPTION_BATCH
    bind_orders(now=now)
    run, after = ReportRun(), 0
    while True:
        scanned, pending = _pending(after=after, limit=batch, cutoff=cutoff(now))
        if scanned is None:
            return run
        after = scanned
        items = _reports(pending)
        if not items:
            continue
        try:
            results = balance.update_campaigns([report for _, report in items])
        except BalanceError as e:
            run.error = f"{type(e).__name__}: {e}"
            _record_failure(pending, error=run.error, now=now)
            logger.warning("consumption of %s orders not reported: %s", len(pending), run.error)
            return run
        accepted, refused = _record(pending, items, results, now=now)
        run.orders += len(pending)
        run.accepted += accepted
        run.refused += refused


def _pending(*, after: int, limit: int, cutoff: dt.datetime) -> tuple[int | None, list[_Pending]]:
    """The next orders after `after` (the last one's id, None when there are no more), and those of
    them with a total to send."""
    with connection.cursor() as cursor:
        cursor.execute(_PENDING_SQL, {"after": after, "limit": limit, "cutoff": cutoff})
        rows = cursor.fetchall()
    if not rows:
        return None, []
    points: dict[int, list] = {}
    heads = {}
    for pk, workspace_id, wallet_id, order_id, reported_total, refused_total, as_of, month_end, total in rows:
        heads[pk] = (pk, workspace_id, wallet_id, order_id, reported_total, refused_total)
        points.setdefault(pk, []).append((as_of, month_end, total))
    pending = []
    for pk, head in heads.items():
        p = _Pending(*head, points=tuple(points[pk]))
        total, reported, refused = p.points[-1][2], p.reported_total, p.refused_total
        if total != reported and (total > reported or refused != total):
            pending.append(p)
    return rows[-1][0], pending


def _reports(pending: list[_Pending]) -> list[tuple[_Pending, ConsumptionReport]]:
    """Each order's reports, oldest first: its total at each month end (as of the month's last
    second) it has not been reported past, then its total at the cutoff; a total equal to the one
    before it is left out."""
    items = []
    for p in pending:
        last = p.reported_total
        for at, month_end, total in p.points:
            if total != last:
                as_of = at - _BEFORE_MONTH_END if month_end else at
                items.append((p, ConsumptionReport(order_id=p.order_id, consumed_total=total, as_of=as_of)))
                last = total
    return items


def _record(pending, items, results, *, now: dt.datetime) -> tuple[int, int]:
    """Keep every report with Balance's answer; move each order's reported total to its last
    accepted one (never down: a slower run cannot undo a newer one)."""
    codes = {r.order_id: [] for r in results}
    for r in results:
        codes[r.order_id].append(r)
    answered = []
    for p, report in items:
        answers = codes.get(report.order_id) or []
        result = answers.pop(0) if answers else None
        answered.append((p, report, result.code if result else "NO_ANSWER", result.message if result else ""))
    with transaction.atomic():
        Report.objects.bulk_create(
            [
                Report(
                    workspace_id=p.workspace_id,
                    wallet_id=p.wallet_id,
                    order_id=report.order_id,
                    consumed_total=report.consumed_total,
                    as_of=report.as_of,
                    sent_at=now,
                    code=code,
                )
                for p, report, code, _ in answered
            ]
        )
        final, last_accepted = {}, {}
        for entry in answered:
            final[entry[0].pk] = entry
            if entry[2] == BalanceCode.SUCCESS:
                last_accepted[entry[0].pk] = entry
        with connection.cursor() as cursor:
            for p, report, _, _ in last_accepted.values():
                cursor.execute(
                    "UPDATE consumption_order SET reported_total = %s, reported_as_of = %s, reported_at = %s,"
                    " refused_total = NULL, last_error = '', last_error_at = NULL"
                    " WHERE id = %s AND (reported_as_of IS NULL OR reported_as_of <= %s)",
                    [report.consumed_total, report.as_of, now, p.pk, report.as_of],
                )
            for p, report, code, message in final.values():
                if code != BalanceCode.SUCCESS:
                    refused = report.consumed_total if code == BalanceCode.CONSUMPTION_DECREASE else None
                    cursor.execute(
                        "UPDATE consumption_order SET refused_total = %s, last_error = %s, last_error_at = %s"
                        " WHERE id = %s",
                        [refused, f"{code}: {message}"[:2000], now, p.pk],
                    )
    accepted = sum(1 for _, _, code, _ in answered if code == BalanceCode.SUCCESS)
    return accepted, len(answered) - accepted


def _record_failure(pending: list[_Pending], *, error: str, now: dt.datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE consumption_order SET last_error = %s, last_error_at = %s WHERE id = ANY(%s)",
            [error[:2000], now, [p.pk for p in pending]],
        )
