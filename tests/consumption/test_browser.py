"""A reconciliation in a real browser: Chromium (through Playwright) against `billy serve` on the
test database. An operator opens the month's reconciliation and sees the mismatch with its links
and the daily chart where billy's consumption and what Balance was told part (Balance was down
for five days; the catch-up report lands on the sixth). The screenshot is saved under the test's
tmp dir, or under BILLY_SCREENSHOT_DIR when set (the README's picture is taken so)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from billy.consumption.models import Reconciliation
from tests.browser import chromium, require_chromium

from .conftest import msk

pytestmark = pytest.mark.slow

require_chromium()
PASSWORD = "a-long-operator-password"


@pytest.fixture
def page(live_billy):
    with chromium() as browser:
        context = browser.new_context(base_url=live_billy.url, viewport={"width": 1200, "height": 900})
        context.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)
        yield context.new_page()
        expect.set_options(timeout=5_000)
        context.close()


def test_an_operator_sees_where_billy_and_balance_part_in_the_month(page, books, tmp_path):
    for day in range(2, 29):
        books.charge(f"nov-{day}", 1_000_00 + day * 37_00, msk(11, day, 11))
        if day == 14:
            books.control.inject("unavailable", count=1000, method="UpdateCampaigns")
        if day == 19:
            books.control.clear_faults()
        books.report(msk(11, day, 20))
    books.charge("nov-30", 2_500_00, msk(11, 30, 22))  # the month's last charge, never reported
    books.control.close_month("2026-11")
    books.reconcile("2026-11", msk(12, 1, 9))
    run = Reconciliation.objects.get()
    get_user_model().objects.create_superuser("operator", "op@example.com", PASSWORD)

    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"/admin/consumption/reconciliation/{run.pk}/change/")

    expect(page.locator("svg.billy-chart rect.billy-side")).to_have_count(28)
    expect(page.locator("svg.billy-chart rect.balance-side")).to_have_count(22)
    expect(page.locator("table.billy-reconciliation")).to_contain_text("NOT_YET_REPORTED 2500.00 RUB")
    page.click("table.billy-reconciliation >> text=acts")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.go_back()
    shots = Path(os.environ.get("BILLY_SCREENSHOT_DIR") or tmp_path)
    page.screenshot(path=shots / "reconciliation.png", full_page=True)
    assert (shots / "reconciliation.png").stat().st_size > 0
