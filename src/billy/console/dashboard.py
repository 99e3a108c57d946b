"""What the dashboard shows, computed from the apps' queries (no ORM of its own)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.safestring import SafeString

from billy.charges.queries import holds_expiring
from billy.core.charts import Series, daily_bars
from billy.core.jobs import JobTrouble, job_trouble
from billy.integrations.probe import Probe, probe_all
from billy.ledger.queries import DailyMoney, daily_money
from billy.workspaces.models import Workspace
from billy.workspaces.queries import list_workspaces

CHART_DAYS = 30
HOLDS_WITHIN = dt.timedelta(hours=24)
FIGURES = ("charged", "refunded", "topped_up", "card_paid", "card_refunded")


@dataclass
class Totals:
    charged: int = 0
    refunded: int = 0
    topped_up: int = 0
    card_paid: int = 0
    card_refunded: int = 0

    def add(self, day: DailyMoney) -> None:
        for name in FIGURES:
            setattr(self, name, getattr(self, name) + getattr(day, name))


@dataclass
class WorkspaceMoney:
    workspace: Workspace
    currency: str
    today: Totals = field(default_factory=Totals)
    month: Totals = field(default_factory=Totals)
    chart: SafeString | None = None


@dataclass(frozen=True)
class Dashboard:
    now: dt.datetime
    money: list[WorkspaceMoney]
    holds: list
    holds_count: int
    jobs: JobTrouble
    upstreams: list[Probe]


def build_dashboard(*, now: dt.datetime) -> Dashboard:
    workspaces = {w.pk: w for w in list_workspaces()}
    rows: dict[tuple[int, str], WorkspaceMoney] = {
        (w.pk, w.currency): WorkspaceMoney(workspace=w, currency=w.currency) for w in workspaces.values()
    }
    days_by_row: dict[tuple[int, str], dict[dt.date, DailyMoney]] = {}
    # 32 days back cover this month (in any time zone) and the chart's 30 days.
    for day in daily_money(since=now - dt.timedelta(days=32), until=now + dt.timedelta(days=1)):
        key = (day.workspace_id, day.currency)
        row = rows.get(key) or rows.setdefault(key, WorkspaceMoney(workspaces[day.workspace_id], day.currency))
        today = _today(row.workspace, now)
        if day.day == today:
            row.today.add(day)
        if (day.day.year, day.day.month) == (today.year, today.month) and day.day <= today:
            row.month.add(day)
        days_by_row.setdefault(key, {})[day.day] = day
    for key, row in rows.items():
        if key in days_by_row:
            row.chart = _chart(row, days_by_row[key], _today(row.workspace, now))
    holds, holds_count = holds_expiring(now=now, within=HOLDS_WITHIN, limit=10)
    return Dashboard(
        now=now,
        money=sorted(rows.values(), key=lambda r: (r.workspace.name, r.currency)),
        holds=holds,
        holds_count=holds_count,
        jobs=job_trouble(limit=5),
        upstreams=probe_all(_upstreams(workspaces.values()), timeout=settings.BILLY_CONSOLE_PROBE_TIMEOUT),
    )


def _today(workspace: Workspace, now: dt.datetime) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(workspace.time_zone)).date()


def _chart(row: WorkspaceMoney, days: dict[dt.date, DailyMoney], today: dt.date) -> SafeString:
    dates = [today - dt.timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]

    def values(name: str) -> list[int]:
        return [getattr(days[d], name) if d in days else 0 for d in dates]

    return daily_bars(
        days=dates,
        series=[
            Series("charged", "charged", values("charged")),
            Series("refunded", "refunded", values("refunded")),
            Series("topped up", "topped-up", values("topped_up")),
            Series("paid by card", "card-paid", values("card_paid")),
            Series("card refunds", "card-refunded", values("card_refunded")),
        ],
        currency=row.currency,
        title=f"{row.workspace.name}: money per day, last {CHART_DAYS} days ({row.currency})",
    )


def _upstreams(workspaces) -> list[tuple[str, str]]:
    targets = [
        ("Balance", settings.BALANCE_URL),
        ("Auth API", settings.AUTH_API_URL),
        ("notifications", settings.NOTIFICATIONS_URL),
    ]
    shops: dict[str, list[str]] = {}
    for w in workspaces:
        if w.yookassa_api_url and w.yookassa_shop_id:
            shops.setdefault(w.yookassa_api_url.rstrip("/"), []).append(w.name)
    for url, names in sorted(shops.items()):
        targets.append((f"payment provider ({', '.join(names)})", url + "/payments"))
    return targets
