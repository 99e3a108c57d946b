"""The month rule, stated once.

Money counts in the month its ledger transaction is posted: a charge when it is made, a hold when
it is confirmed (a hold posts nothing until then), a refund when it is made, whatever month the
charge it refunds was in. Months are calendar months in the workspace's time zone and half-open:
[first midnight, next first midnight). Python code asks `month_span`; SQL reads `CONSUMPTION_ENTRIES`
and filters `posted_at` by the span (or groups by `local_day_sql`), so the rule cannot drift.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from billy.core.errors import BillyError


class InvalidMonth(BillyError):
    code = "invalid_month"
    default_message = "A month is written YYYY-MM, in the years 2000 to 2999."


# Years outside 2000-2999 are refused: none is a billing month, and so no month's span, nor the
# month after it, can leave the dates Python and PostgreSQL hold.
_MONTH = re.compile(r"^(2\d{3})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> dt.date:
    """`YYYY-MM` as the month's first day; InvalidMonth for anything else."""
    match = _MONTH.match(text or "")
    if match is None:
        raise InvalidMonth(details={"month": text})
    return dt.date(int(match[1]), int(match[2]), 1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def month_span(month: dt.date, *, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The month's half-open span [start, end) in the zone, as aware UTC times."""
    zone = zoneinfo.ZoneInfo(time_zone)
    start = dt.datetime.combine(month.replace(day=1), dt.time(), tzinfo=zone)
    end = dt.datetime.combine(next_month(month), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def month_of(moment: dt.datetime, *, time_zone: str) -> dt.date:
    """The month (its first day) a moment counts in."""
    return moment.astimezone(zoneinfo.ZoneInfo(time_zone)).date().replace(day=1)


def month_ends_between(after: dt.datetime, until: dt.datetime, *, time_zone: str) -> list[dt.datetime]:
    """The month ends (next months' starts) in (after, until], in order."""
    ends = []
    month = next_month(month_of(after, time_zone=time_zone))
    while True:
        start, _ = month_span(month, time_zone=time_zone)
        if start > until:
            return ends
        if start > after:
            ends.append(start)
        month = next_month(month)


def month_ends_sql(after: str, until: str, zone: str) -> str:
    """SQL: the month ends (next months' starts) in (after, until] in a zone, as rows `end_at`;
    the same months as `month_ends_between`."""
    return f"""SELECT (m AT TIME ZONE {zone}) AS end_at
  FROM generate_series(date_trunc('month', {after} AT TIME ZONE {zone}) + interval '1 month',
                       {until} AT TIME ZONE {zone}, interval '1 month') AS m"""  # noqa: S608 (names only)


# The ledger's consumption: every wallet entry of a CHARGE or REFUND transaction, as what it adds to
# the wallet's net consumption (a charge's debit is +, a refund's credit is -), with the moment its
# transaction was posted. Its sum over a wallet is the wallet's `net_consumption`.
CONSUMPTION_ENTRIES = """
SELECT e.account_id AS wallet_id, -e.amount AS amount, t.created_at AS posted_at, t.workspace_id
  FROM ledger_transaction t
  JOIN ledger_entry e ON e.transaction_id = t.id
  JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'WALLET'
 WHERE t.kind IN ('CHARGE', 'REFUND')
"""


def local_day_sql(moment: str) -> str:
    """SQL: the day (in the workspace's zone, passed as %(time_zone)s) a moment counts in."""
    return f"({moment} AT TIME ZONE %(time_zone)s)::date"
