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

import collections
import dataclasses
import datetime as dt
import logging

from django.conf import settings
from django.db import connection, transaction

from billy.integrations.balance.port import (
    Balance,
    BalanceCode,
    BalanceError,
    BalanceFault,
    BalanceOutcomeUnknown,
    ConsumptionReport,
    ConsumptionResult,
)

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
# in one statement (one snapshot of the ledger): its total at each month end (the workspace's and
# Balance's, BILLY_BALANCE_TIME_ZONE) after the moment
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
   AND (o.retry_at IS NULL OR o.retry_at <= %(now)s)
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
         FROM ({month_ends_sql("o.since", "%(cutoff)s::timestamptz", "o.time_zone")}
               UNION
               {month_ends_sql("o.since", "%(cutoff)s::timestamptz", "%(balance_zone)s::text")}) ends
        UNION ALL
       SELECT %(cutoff)s::timestamptz, false
 ) p
 ORDER BY o.id, p.as_of
"""  # noqa: S608 (constant fragments only)


# An order Balance refuses (not a decrease) is tried again after 1, 2, 4, ... minutes, at most this.
_MAX_BACKOFF = dt.timedelta(days=1)

# A report Balance received but did not answer: its outcome is unknown.
UNKNOWN = "UNKNOWN"

# Orders whose Balance total is a total billy sent, above the one billy counts as accepted.
_ADOPT_SQL = """
UPDATE consumption_order o
   SET reported_total = r.consumed_total, reported_as_of = greatest(o.reported_as_of, r.as_of), reported_at = %(now)s
  FROM unnest(%(orders)s::bigint[], %(totals)s::bigint[]) AS i(order_id, total)
 CROSS JOIN LATERAL (
       SELECT r.consumed_total, r.as_of FROM consumption_report r
        WHERE r.order_id = i.order_id AND r.consumed_total = i.total
        ORDER BY r.as_of DESC LIMIT 1) r
 WHERE o.order_id = i.order_id AND o.reported_total < r.consumed_total
"""


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

    Stops at the first call Balance does not answer (unavailable, outcome unknown): the totals stay
    pending and the next run sends them again (cumulative, so a repeat is harmless)."""
    batch = batch or settings.BILLY_CONSUMPTION_BATCH
    bind_orders(now=now)
    run, after, at = ReportRun(), 0, cutoff(now)
    while True:
        scanned, pending = _pending(after=after, limit=batch, cutoff=at, now=now)
        if scanned is None:
            return run
        after = scanned
        run.orders += len(pending)
        if not _send(balance, _reports(pending), run, now=now):
            logger.warning("consumption of %s orders not reported: %s", len(pending), run.error)
            return run


def _send(balance: Balance, items: list[tuple[_Pending, ConsumptionReport]], run: ReportRun, *, now) -> bool:
    """Send the reports in rounds: round n holds each order's n-th report, so a month end's total
    goes in a call of its own before any later total of its order. After an unknown outcome the
    next run sends the month end's total again, equal to what Balance may have taken (accepted
    again), never a lower total after a higher one. False when a call went unanswered."""
    rounds: dict[int, list] = {}
    sent: collections.Counter[int] = collections.Counter()
    for p, report in items:
        rounds.setdefault(sent[p.pk], []).append((p, report))
        sent[p.pk] += 1
    answered = None  # the orders whose report in the round before was answered
    for n in sorted(rounds):
        chunk = [(p, r) for p, r in rounds[n] if answered is None or p.pk in answered]
        if not chunk:
            return True
        try:
            results = _update(balance, [r for _, r in chunk])
        except BalanceOutcomeUnknown as e:
            run.error = f"{type(e).__name__}: {e}"
            _record(chunk, [ConsumptionResult(r.order_id, UNKNOWN, str(e)) for _, r in chunk], now=now)
            return False
        except BalanceError as e:
            run.error = f"{type(e).__name__}: {e}"
            _record_failure([p for p, _ in chunk], error=run.error, now=now)
            return False
        codes = _record(chunk, results, now=now)
        run.accepted += sum(1 for code in codes if code == BalanceCode.SUCCESS)
        run.refused += sum(1 for code in codes if code != BalanceCode.SUCCESS)
        decreased = [p for (p, _), code in zip(chunk, codes, strict=True) if code == BalanceCode.CONSUMPTION_DECREASE]
        if decreased:
            _adopt(balance, decreased, now=now)
        answered = {
            p.pk
            for (p, _), code in zip(chunk, codes, strict=True)
            if code in (BalanceCode.SUCCESS, BalanceCode.CONSUMPTION_DECREASE)
        }
    return True


def _update(balance: Balance, reports: list[ConsumptionReport]) -> list[ConsumptionResult]:
    """UpdateCampaigns; a call Balance refuses whole (a bad order in it) is split in halves down to
    the order it refuses, which gets the refusal as its answer, so one bad order stops no other.
    Unavailable, unknown and too-many-operations stop the run (raised)."""
    try:
        return balance.update_campaigns(reports)
    except BalanceFault as e:
        if e.code == BalanceCode.TOO_MANY_OPERATIONS:
            raise
        if len(reports) == 1:
            return [ConsumptionResult(reports[0].order_id, e.code, e.message)]
        half = len(reports) // 2
        return _update(balance, reports[:half]) + _update(balance, reports[half:])


def _adopt(balance: Balance, decreased: list[_Pending], *, now: dt.datetime) -> None:
    """Balance refused a decrease: read its totals back, and where one is a total billy sent (a
    report whose answer was lost, taken after all), take it as reported."""
    try:
        infos = balance.get_orders_info([p.order_id for p in decreased])
    except BalanceError as e:
        logger.warning("reading back %s refused orders: %s", len(decreased), e)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _ADOPT_SQL, {"orders": [i.order_id for i in infos], "totals": [i.consumed_total for i in infos], "now": now}
        )


def _pending(*, after: int, limit: int, cutoff: dt.datetime, now: dt.datetime) -> tuple[int | None, list[_Pending]]:
    """The next orders after `after` (the last one's id, None when there are no more), and those of
    them with a total to send."""
    with connection.cursor() as cursor:
        cursor.execute(
            _PENDING_SQL,
            {
                "after": after,
                "limit": limit,
                "cutoff": cutoff,
                "now": now,
                "balance_zone": settings.BILLY_BALANCE_TIME_ZONE,
            },
        )
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


def _record(chunk, results, *, now: dt.datetime) -> list[str]:
    """Keep every report with Balance's answer (one report per order in a call); move each order's
    reported total to its accepted one (never down: a slower run cannot undo a newer one). Returns
    the answers' codes in the chunk's order."""
    by_order = {r.order_id: r for r in results}
    answered = []
    for p, report in chunk:
        result = by_order.get(report.order_id)
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
        with connection.cursor() as cursor:
            for p, report, code, message in answered:
                if code == BalanceCode.SUCCESS:
                    cursor.execute(
                        "UPDATE consumption_order SET reported_total = %s, reported_as_of = %s, reported_at = %s,"
                        " refused_total = NULL, last_error = '', last_error_at = NULL, refusals = 0, retry_at = NULL"
                        " WHERE id = %s AND (reported_as_of IS NULL OR reported_as_of <= %s)",
                        [report.consumed_total, report.as_of, now, p.pk, report.as_of],
                    )
                elif code in (BalanceCode.CONSUMPTION_DECREASE, UNKNOWN):
                    refused = report.consumed_total if code == BalanceCode.CONSUMPTION_DECREASE else None
                    cursor.execute(
                        "UPDATE consumption_order SET refused_total = %s, last_error = %s, last_error_at = %s"
                        " WHERE id = %s",
                        [refused, f"{code}: {message}"[:2000], now, p.pk],
                    )
                else:  # refused for this order alone (an order Balance does not know, ...): back off
                    cursor.execute(
                        "UPDATE consumption_order SET refused_total = NULL, last_error = %s, last_error_at = %s,"
                        " refusals = refusals + 1,"
                        " retry_at = %s + least(interval '1 minute' * 2 ^ least(refusals, 20),"
                        " %s * interval '1 second')"
                        " WHERE id = %s",
                        [f"{code}: {message}"[:2000], now, now, _MAX_BACKOFF.total_seconds(), p.pk],
                    )
    return [code for _, _, code, _ in answered]


def _record_failure(pending: list[_Pending], *, error: str, now: dt.datetime) -> None:
    """A call Balance did not take: nothing changed; the orders keep waiting."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE consumption_order SET last_error = %s, last_error_at = %s WHERE id = ANY(%s)",
            [error[:2000], now, [p.pk for p in pending]],
        )
