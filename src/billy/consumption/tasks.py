"""Background jobs of consumption: reporting (every BILLY_CONSUMPTION_REPORT_SECONDS), fetching acts
(daily), and reconciling the month that ended (monthly)."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import DatabaseError

from billy.core import clock
from billy.core.errors import BillyError
from billy.core.tasks import janitor
from billy.integrations.balance import get_balance
from billy.integrations.balance.port import BalanceError
from billy.workspaces.models import Workspace

from . import acts, reconciliation, reporting
from .months import month_of, previous_month

logger = logging.getLogger(__name__)

REPORT_TASK = "billy.consumption.report"


def report_cron(seconds: float) -> str:
    """The reporting job's schedule for BILLY_CONSUMPTION_REPORT_SECONDS: every N seconds under a
    minute (at the seconds that are multiples of N), else every N // 60 minutes."""
    if seconds < 60:
        return f"* * * * * */{max(1, int(seconds))}"
    minutes = min(59, int(seconds // 60))
    return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"


@janitor(
    name=REPORT_TASK,
    cron=report_cron(settings.BILLY_CONSUMPTION_REPORT_SECONDS),
    periodic_id="report_consumption",
    queue="balance",
)
def report_consumption_task(timestamp: int, *, until: float) -> int:
    """Send the latest total of every wallet order that moved (a run still at work when the next
    is due makes the next stand down, so runs never pile up while Balance is slow)."""
    return reporting.report_consumption(balance=get_balance(), now=clock.now()).accepted


@janitor(name="billy.consumption.fetch_acts", cron="17 4 * * *", periodic_id="fetch_acts", queue="balance")
def fetch_acts_task(timestamp: int, *, until: float) -> int:
    """Daily: every bound client's acts of the previous and the current month (until the run's
    deadline; the next run fetches the rest, acts being append-only)."""
    now, balance = clock.now(), get_balance()
    fetched = 0
    for workspace in Workspace.objects.order_by("id"):
        if time.monotonic() > until:
            break
        month = previous_month(month_of(now, time_zone=workspace.time_zone))
        fetched += acts.fetch_acts(
            month=month, months=2, workspace=workspace, balance=balance, now=now, until=until
        ).acts
    return fetched


@janitor(name="billy.consumption.reconcile", cron="0 6 2 * *", periodic_id="reconcile_month", queue="balance")
def reconcile_task(timestamp: int, *, until: float) -> int:
    """Monthly (the 2nd, after Balance formed the acts): reconcile the month that ended, in every
    workspace; returns the mismatches found. A workspace whose reconciliation fails is logged and
    the next one goes on; the run stops taking workspaces after its deadline (the job is retried)."""
    now, balance = clock.now(), get_balance()
    mismatches = 0
    for workspace in Workspace.objects.order_by("id"):
        if time.monotonic() > until:
            logger.warning("reconciliation stopped at its deadline before %s", workspace.name)
            break
        month = previous_month(month_of(now, time_zone=workspace.time_zone))
        try:
            acts.fetch_acts(month=month, workspace=workspace, balance=balance, now=now)
            read = acts.read_balance_totals(workspace=workspace, balance=balance, now=now)
            if read.failed:
                logger.warning(
                    "%s: Balance's totals of %s orders not read: %s", workspace.name, read.failed, read.error
                )
            run = reconciliation.reconcile_month(workspace=workspace, month=month, now=now)
        except (BillyError, BalanceError, DatabaseError):
            logger.exception("reconciliation of %s %s failed", workspace.name, month)
            continue
        logger.info("reconciled %s %s: %s clients, %s mismatches", workspace.name, month, run.clients, run.mismatches)
        mismatches += run.mismatches
    return mismatches
