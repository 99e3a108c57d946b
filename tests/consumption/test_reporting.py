"""Reporting is coalesced: however many charges moved a wallet, one run sends its latest total in
one UpdateCampaigns item; the job runs every BILLY_CONSUMPTION_REPORT_SECONDS."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from procrastinate.contrib.django import app

from billy.consumption.models import Report
from billy.consumption.tasks import REPORT_TASK, report_cron

from .conftest import msk


def test_a_thousand_charges_in_a_minute_cost_one_update_campaigns_item(books):
    start = msk(11, 10, 12)
    for n in range(1000):
        books.charge(f"c{n}", 1_00 + n, start + dt.timedelta(milliseconds=50 * n))
    calls_before = len(books.control.calls("UpdateCampaigns"))

    run = books.report(start + dt.timedelta(minutes=1))

    (call,) = books.control.calls("UpdateCampaigns")[calls_before:]
    assert (run.orders, run.accepted) == (1, 1)
    assert Report.objects.get().consumed_total == sum(1_00 + n for n in range(1000)) == books.order_total()
    assert call["outcome"] == "ok"


def test_the_job_runs_every_billy_consumption_report_seconds():
    assert [report_cron(s) for s in (1, 5, 30, 60, 90, 300, 7200)] == [
        "* * * * * */1",
        "* * * * * */5",
        "* * * * * */30",
        "* * * * *",
        "* * * * *",
        "*/5 * * * *",
        "*/59 * * * *",
    ]
    (task,) = [p for p in app.periodic_registry.periodic_tasks.values() if p.task.name == REPORT_TASK]
    assert task.cron == report_cron(settings.BILLY_CONSUMPTION_REPORT_SECONDS) == "* * * * *"  # the default, 60


def test_charging_calls_no_balance_while_it_is_down_and_reports_catch_up_after(books):
    books.control.inject("unavailable", count=10**6)
    calls_before = len(books.control.calls())
    for n in range(50):
        books.charge(f"c{n}", 10_00, msk(11, 10, 12, n))
    assert len(books.control.calls()) == calls_before  # a charge never waits on Balance

    assert books.report(msk(11, 10, 13)).error.startswith("BalanceUnavailable")
    books.control.clear_faults()
    run = books.report(msk(11, 10, 14))

    assert (run.orders, run.accepted, run.error) == (1, 1, "")
    assert books.order_total() == 50 * 10_00 == books.client.wallet.net_consumption
