"""The periodic jobs: acts fetched daily, and the month that ended reconciled on the 2nd."""

from __future__ import annotations

from django.conf import settings
from procrastinate.contrib.django import app

from billy.consumption import acts
from billy.consumption.models import Act, Reconciliation
from billy.core import clock

from .conftest import msk


def test_the_daily_job_fetches_the_previous_and_the_current_month_acts(books, monkeypatch):
    books.charge("c1", 100_00, msk(10, 10))
    books.report(msk(10, 10, 13))
    books.control.close_month("2026-10")
    books.charge("c2", 30_00, msk(11, 10))
    books.report(msk(11, 10, 13))
    books.control.close_month("2026-11")
    monkeypatch.setattr(clock, "now", lambda: msk(11, 30, 4, 17))

    assert app.tasks["billy.consumption.fetch_acts"].func(timestamp=0) == 2
    assert sorted(Act.objects.values_list("act_date", "amount")) == [
        (msk(10, 31).date(), 100_00),
        (msk(11, 30).date(), 30_00),
    ]
    assert app.tasks["billy.consumption.fetch_acts"].func(timestamp=0) == 0  # append-only: nothing new


def test_the_monthly_job_reconciles_the_month_that_ended(books, monkeypatch):
    books.charge("c1", 100_00, msk(11, 10))
    books.report(msk(11, 10, 13))
    books.control.close_month("2026-11")
    monkeypatch.setattr(clock, "now", lambda: msk(12, 2, 6))

    assert app.tasks["billy.consumption.reconcile"].func(timestamp=0) == 0

    run = Reconciliation.objects.get()
    assert (run.month, run.clients, run.mismatches, run.act_total) == (msk(11, 1).date(), 1, 0, 100_00)


def test_a_balance_fault_reading_totals_does_not_stop_the_monthly_reconciliation(books, monkeypatch):
    books.charge("c1", 100_00, msk(11, 10))
    books.report(msk(11, 10, 13))
    books.control.close_month("2026-11")
    books.control.inject("fault", method="GetOrdersInfo", code="ORDER_NOT_FOUND", count=10)
    monkeypatch.setattr(clock, "now", lambda: msk(12, 2, 6))

    assert app.tasks["billy.consumption.reconcile"].func(timestamp=0) == 0

    run = Reconciliation.objects.get()  # reconciled with the totals Balance showed last
    assert (run.clients, run.act_total) == (1, 100_00)
    read = acts.read_balance_totals(workspace=books.workspace, balance=books.balance, now=msk(12, 2, 7))
    assert (read.orders, read.failed) == (0, 1) and "ORDER_NOT_FOUND" in read.error


def test_the_daily_job_stops_taking_clients_at_its_deadline(books, monkeypatch):
    books.charge("c1", 100_00, msk(10, 10))
    books.report(msk(10, 10, 13))
    books.control.close_month("2026-10")
    monkeypatch.setattr(settings, "BILLY_JANITOR_RUN_SECONDS", -1)  # the deadline is already past
    monkeypatch.setattr(clock, "now", lambda: msk(11, 30, 4, 17))

    assert app.tasks["billy.consumption.fetch_acts"].func(timestamp=0) == 0
    monkeypatch.setattr(settings, "BILLY_JANITOR_RUN_SECONDS", 50)
    assert app.tasks["billy.consumption.fetch_acts"].func(timestamp=0) == 1  # the next run fetches it
