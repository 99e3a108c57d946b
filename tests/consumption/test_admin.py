"""The operator's view: each order's reported total, billy's and the lag; a reconciliation's
mismatches with links to the client, its charges and acts, and the month's daily chart."""

from __future__ import annotations

import re

from django.db import connection
from django.urls import reverse

from billy.consumption.models import OrderReport, Reconciliation
from billy.consumption.tasks import REPORT_TASK
from billy.core import clock

from .conftest import msk


def test_the_order_list_shows_billy_total_the_reported_one_and_the_lag(books, admin_client, monkeypatch):
    books.charge("c1", 100_00, msk(11, 10))
    books.report(msk(11, 10, 13))
    books.charge("c2", 25_50, msk(11, 11))
    monkeypatch.setattr(clock, "now", lambda: msk(11, 11, 13, 30))  # the admin's clock, pinned

    page = admin_client.get(reverse("admin:consumption_orderreport_changelist")).content.decode()

    assert "125.50 RUB" in page and "100.00 RUB" in page
    reported_at = OrderReport.objects.get().reported_at
    minutes = int((msk(11, 11, 13, 30) - reported_at).total_seconds() // 60)
    assert f"25.50 RUB, last report {minutes} min ago" in page
    assert OrderReport.objects.count() == 1


def test_a_reconciliation_page_lists_mismatches_with_links_and_charts_billy_against_balance(books, admin_client):
    books.charge("c1", 100_00, msk(11, 10))
    books.report(msk(11, 10, 13))
    books.charge("c2", 40_00, msk(11, 17))  # never reported: the chart parts on the 17th
    books.control.close_month("2026-11")
    books.reconcile("2026-11", msk(12, 1, 9))
    run = Reconciliation.objects.get()

    page = admin_client.get(reverse("admin:consumption_reconciliation_change", args=[run.pk])).content.decode()

    assert "NOT_YET_REPORTED 40.00 RUB" in page
    assert reverse("admin:clients_client_change", args=[books.client.pk]) in page
    assert f"/admin/charges/charge/?client__id__exact={books.client.pk}" in page
    assert f"/admin/consumption/act/?client__id__exact={books.client.pk}" in page
    bars = re.findall(r'<rect class="(billy-side|balance-side)"[^>]*><title>([^<]*)</title>', page)
    assert ("billy-side", "2026-11-10 billy&#x27;s ledger: 100.00 RUB") in bars
    assert ("balance-side", "2026-11-10 reported to Balance: 100.00 RUB") in bars
    assert ("billy-side", "2026-11-17 billy&#x27;s ledger: 40.00 RUB") in bars
    assert not [b for b in bars if b[0] == "balance-side" and b[1].startswith("2026-11-17")]


def test_report_now_defers_the_reporting_job_and_calls_no_balance_in_the_request(books, admin_client):
    books.charge("c1", 100_00, msk(11, 10))
    books.report(msk(11, 10, 13))
    calls_before = len(books.control.calls("UpdateCampaigns"))
    changelist = reverse("admin:consumption_orderreport_changelist")
    pk = OrderReport.objects.get().pk

    for _ in range(2):
        admin_client.post(changelist, {"action": "report_now", "_selected_action": [pk]})

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s AND status = 'todo'", [REPORT_TASK]
        )
        assert cursor.fetchone()[0] == 1  # one waits; the second click found it waiting
    assert len(books.control.calls("UpdateCampaigns")) == calls_before
