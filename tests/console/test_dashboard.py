"""The dashboard: money moved per workspace today and this month, a 30-day chart, holds about to
expire, failing jobs and upstreams, in a fixed number of queries, never waiting long on an upstream."""

from __future__ import annotations

import datetime as dt
import re
import socket
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billy.core.tasks import defer
from tests.charges.conftest import make_client
from tests.conftest import NOW, make_workspace
from tests.console.conftest import adjust, charge

URL = "/admin/dashboard/"


def cell(html: str, row_id: str, css_class: str) -> str:
    row = re.search(rf'<tr id="{row_id}">(.*?)</tr>', html, re.S).group(1)
    return re.search(rf'class="money {css_class}">([^<]*)<', row).group(1)


@pytest.fixture
def quick_probes(settings, refused_port):
    """Upstreams that answer at once: a refused port for each (no waiting in these tests)."""
    for name in ("BALANCE_URL", "AUTH_API_URL", "NOTIFICATIONS_URL"):
        setattr(settings, name, f"http://127.0.0.1:{refused_port}/")
    settings.BILLY_CONSOLE_PROBE_TIMEOUT = 1.0


def test_money_today_and_this_month_per_workspace(operator, history, pinned_clock, quick_probes):
    earlier = make_client(history.client.workspace, "client-3")
    adjust(earlier, "invoice-early", 50_00, at=NOW - dt.timedelta(days=5))  # this month, not today
    charge(earlier, "early-order", 7_50, at=NOW - dt.timedelta(days=5))
    adjust(earlier, "invoice-old", 99_00, at=NOW - dt.timedelta(days=25))  # last month (October 29th)

    html = operator.get(URL).content.decode()

    row = "money-c2b-RUB"
    assert cell(html, row, "today-charged") == "120.00 RUB"  # the hold is not charged yet
    assert cell(html, row, "today-refunded") == "20.00 RUB"
    assert cell(html, row, "today-topped-up") == "500.00 RUB"
    assert cell(html, row, "month-charged") == "127.50 RUB"
    assert cell(html, row, "month-topped-up") == "550.00 RUB"


def test_days_are_the_workspaces_own(operator, transactional_db, pinned_clock, quick_probes, jobs_cleanup):
    # 23:30 UTC on the 22nd is already the 23rd in Moscow (UTC+3), and still the 22nd in New York.
    moscow = make_workspace("autoru", time_zone="Europe/Moscow")
    new_york = make_workspace("realty", time_zone="America/New_York")
    for workspace in (moscow, new_york):
        late = NOW.replace(hour=0) - dt.timedelta(minutes=30)
        adjust(make_client(workspace, "late"), f"late-{workspace.name}", 10_00, at=late)

    html = operator.get(URL).content.decode()

    assert cell(html, "money-autoru-RUB", "today-topped-up") == "10.00 RUB"
    assert cell(html, "money-realty-RUB", "today-topped-up") == "0.00 RUB"


def test_chart_has_a_bar_per_day_and_figure(operator, history, pinned_clock, quick_probes):
    adjust(history.client, "invoice-week-ago", 70_00, at=NOW - dt.timedelta(days=7))

    html = operator.get(URL).content.decode()

    chart = re.search(r'<figure class="chart" id="chart-c2b-RUB">(.*?)</figure>', html, re.S).group(1)
    assert "<svg" in chart
    assert "2026-11-23 charged: 120.00 RUB" in chart
    assert "2026-11-23 topped up: 500.00 RUB" in chart
    assert "2026-11-16 topped up: 70.00 RUB" in chart


def test_holds_expiring_soon_are_listed_with_their_amount(operator, history, pinned_clock, quick_probes):
    charge(history.client, "order-later", 5_00, hold=True, hold_ttl_seconds=3 * 24 * 3600)

    html = operator.get(URL).content.decode()

    holds = re.search(r'<section id="holds">(.*?)</section>', html, re.S).group(1)
    assert "Holds expiring within 24 hours: 1" in holds
    assert "order-2" in holds and "30.00 RUB" in holds and "order-later" not in holds


def test_failing_jobs_are_counted_and_linked(operator, history, pinned_clock, quick_probes):
    with connection.cursor() as cursor:
        job_id = defer("billy.clients.link_client_configuration", client_id=history.client.pk)
        cursor.execute("UPDATE procrastinate_jobs SET status = 'failed', attempts = 1 WHERE id = %s", [job_id])
        retrying = defer("billy.clients.link_client_configuration", client_id=history.client.pk)
        cursor.execute("UPDATE procrastinate_jobs SET attempts = 2 WHERE id = %s", [retrying])

    html = operator.get(URL).content.decode()

    jobs = re.search(r'<section id="jobs">(.*?)</section>', html, re.S).group(1)
    assert ">1 failed</a>" in jobs and "1 being retried" in jobs
    assert f"/admin/core/failedjob/{job_id}/change/" in jobs


def test_upstreams_reachable_or_not(operator, transactional_db, settings, balance_emulator, refused_port):
    settings.BALANCE_URL = balance_emulator.url
    settings.AUTH_API_URL = f"http://127.0.0.1:{refused_port}"
    settings.NOTIFICATIONS_URL = f"http://user:pw@127.0.0.1:{refused_port}/?token=t"

    html = operator.get(URL).content.decode()

    rows = {name: state for state, name in re.findall(r'<tr class="(up|down)">\s*<td>([^<]+)</td>', html)}
    assert rows == {"Balance": "up", "Auth API": "down", "notifications": "down"}
    assert "pw@" not in html and "token=t" not in html


def test_a_silent_upstream_holds_the_page_no_longer_than_the_probe_timeout(operator, transactional_db, settings):
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        for name in ("BALANCE_URL", "AUTH_API_URL", "NOTIFICATIONS_URL"):
            setattr(settings, name, url)
        settings.BILLY_CONSOLE_PROBE_TIMEOUT = 0.3
        started = time.monotonic()
        html = operator.get(URL).content.decode()
        took = time.monotonic() - started

    assert html.count("no answer within 0.3 s") == 3
    assert took < 3  # three silent systems, probed side by side; each alone would take 0.3 s


def test_dashboard_queries_do_not_grow_with_the_ledger(operator, history, pinned_clock, quick_probes):
    with CaptureQueriesContext(connection) as few:
        assert operator.get(URL).status_code == 200
    for n in range(40):
        other = make_client(history.client.workspace, f"many-{n}")
        adjust(other, f"many-{n}", 10_00, at=NOW - dt.timedelta(days=n % 30))
        hold = {"hold": True, "hold_ttl_seconds": 3600} if n % 2 else {}
        charge(other, f"many-{n}", 1_00, **hold)
    with CaptureQueriesContext(connection) as many:
        assert operator.get(URL).status_code == 200

    assert len(many) == len(few) <= 12, [q["sql"][:80] for q in many.captured_queries]
