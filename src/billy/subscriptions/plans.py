"""Plans on sale, their periods and their refund policy."""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo

from billy.core.errors import BillyError
from billy.core.money import prorate
from billy.core.timestamps import format_timestamp
from billy.workspaces.models import Workspace

from .models import Plan


class RefundNotAllowed(BillyError):
    code = "refund_not_allowed"
    default_message = "The plan's refund policy gives nothing back now."


def add_period(start: dt.datetime, period: str, *, time_zone: str) -> dt.datetime:
    """The end of a period starting at `start`: the same local time a calendar month or year later
    (clipped to the month's last day), in the workspace's time zone."""
    local = start.astimezone(zoneinfo.ZoneInfo(time_zone))
    months = 12 if period == Plan.Period.YEAR else 1
    year, month = divmod(local.month - 1 + months, 12)
    year, month = local.year + year, month + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(dt.UTC)


def refund_amount(
    *, plan: Plan, paid: int, period_start: dt.datetime, period_end: dt.datetime, now: dt.datetime
) -> int:
    """What the plan's refund policy gives back now. Raises RefundNotAllowed.

    `FULL`: everything paid, within `refund_days` days of the period's start. `PRORATED`: the paid
    amount times unused whole days over the period's days; the day in progress counts as used.
    """
    if plan.refund_policy == Plan.RefundPolicy.FULL:
        if now < period_start + dt.timedelta(days=plan.refund_days):
            return paid
        raise RefundNotAllowed(
            f"Plan {plan.code!r} refunds in full only within {plan.refund_days} days of the period's start.",
            details={"refundable_until": format_timestamp(period_start + dt.timedelta(days=plan.refund_days))},
        )
    total_days = max(1, (period_end - period_start).days)
    unused_days = min(total_days, max(0, (period_end - now).days))
    amount = prorate(paid, unused_days, total_days)
    if amount <= 0:
        raise RefundNotAllowed("Nothing of the period is left unused: there is nothing to refund.")
    return amount


def ensure_plan(
    *,
    workspace: Workspace,
    code: str,
    title: str,
    price: int,
    period: str,
    refund_policy: str,
    refund_days: int,
    now: dt.datetime,
    role: str = "subscriber",
) -> Plan:
    """Create the plan, or keep an existing one as the operator left it."""
    plan, _ = Plan.objects.get_or_create(
        workspace=workspace,
        code=code,
        defaults={
            "title": title,
            "price": price,
            "currency": workspace.currency,
            "period": period,
            "refund_policy": refund_policy,
            "refund_days": refund_days,
            "role": role,
            "created_at": now,
        },
    )
    return plan
