"""Background jobs of consumption: reporting (every minute, or every BILLY_CONSUMPTION_REPORT_SECONDS
when that is shorter), fetching acts (daily), and reconciling the month that ended (monthly)."""

from __future__ import annotations

import logging

from django.conf import settings
from procrastinate.exceptions import AlreadyEnqueued

from billy.core import clock
from billy.core.tasks import defer, janitor
from billy.integrations.balance import get_balance
from billy.workspaces.models import Workspace

from . import acts, reconciliation, reporting
from .months import month_of, previous_month

logger = logging.getLogger(__name__)

REPORT_TASK = "billy.consumption.report"


@janitor(name=REPORT_TASK, cron="* * * * *", periodic_id="report_consumption", queue="balance")
def report_consumption_task(timestamp: int, *, until: float) -> int:
    """Send the latest total of every wallet order that moved; with a delay shorter than a minute,
    the run also asks for the next one that much later (one waits at most)."""
    run = reporting.report_consumption(balance=get_balance(), now=clock.now())
    if settings.BILLY_CONSUMPTION_REPORT_SECONDS < 60:
        try:
            defer(
                REPORT_TASK,
                schedule_in={"seconds": settings.BILLY_CONSUMPTION_REPORT_SECONDS},
                queueing_lock=REPORT_TASK,
                timestamp=0,
            )
        except AlreadyEnqueued:
            pass  # the next run is waiting already
    return run.accepted


@janitor(name="billy.consumption.fetch_acts", cron="17 4 * * *", periodic_id="fetch_acts", queue="balance")
def fetch_acts_task(timestamp: int, *, until: float) -> int:
    """Daily: every bound client's acts of the previous and the current month."""
    now = clock.now()
    fetched = 0
    for workspace in Workspace.objects.order_by("id"):
        month = previous_month(month_of(now, time_zone=workspace.time_zone))
        fetched += acts.fetch_acts(month=month, months=2, workspace=workspace, balance=get_balance(), now=now).acts
    return fetched


@janitor(name="billy.consumption.reconcile", cron="0 6 2 * *", periodic_id="reconcile_month", queue="balance")
def reconcile_task(timestamp: int, *, until: float) -> int:
    """Monthly (the 2nd, after Balance formed the acts): reconcile the month that ended, in every
    workspace; returns the mismatches found."""
    now, balance = clock.now(), get_balance()
    mismatches = 0
    for workspace in Workspace.objects.order_by("id"):
        month = previous_month(month_of(now, time_zone=workspace.time_zone))
        acts.fetch_acts(month=month, workspace=workspace, balance=balance, now=now)
        acts.read_balance_totals(workspace=workspace, balance=balance, now=now)
        run = reconciliation.reconcile_month(workspace=workspace, month=month, now=now)
        logger.info("reconciled %s %s: %s clients, %s mismatches", workspace.name, month, run.clients, run.mismatches)
        mismatches += run.mismatches
    return mismatches
