"""The console in a real browser: Chromium (through Playwright) against `billy serve` on the test
database. An operator reads the dashboard, exports the charges of a filter, and reads a wallet's
statement. Each test saves a screenshot under its tmp dir and prints its path."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from billy.charges import operations as charges
from billy.charges.models import Charge
from billy.clients.models import Client
from billy.core import clock
from billy.ledger.models import Account
from tests.browser import chromium, require_chromium
from tests.charges.conftest import make_client
from tests.console.conftest import PASSWORD, adjust, charge

pytestmark = pytest.mark.slow

require_chromium()


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser, live_billy):
    context = browser.new_context(
        base_url=live_billy.url, accept_downloads=True, viewport={"width": 1400, "height": 900}
    )
    context.set_default_timeout(60_000)  # only a failure waits this long: room for a busy machine
    expect.set_options(timeout=60_000)
    yield context.new_page()
    expect.set_options(timeout=5_000)  # Playwright's default, for the other modules
    context.close()


@pytest.fixture
def screenshot(page, tmp_path, capsys):
    """Save the page as `<name>.png` under the test's tmp dir and print where."""

    def take(name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        assert path.stat().st_size > 0
        with capsys.disabled():
            print(f"\nscreenshot: {path}")
        return path

    return take


@dataclasses.dataclass(frozen=True)
class Today:
    client: Client
    wallet: Account


@pytest.fixture
def today(workspace) -> Today:
    """What the server's own clock calls today: 500.00 in, 120.00 charged (20.00 refunded), 30.00 held."""
    now = clock.now()
    client = make_client(workspace, "client-1")
    adjust(client, "invoice-1", 500_00, at=now)
    charge(client, "order-1", 120_00, at=now)
    charges.refund_charge(
        workspace=workspace, charge_id="order-1", refund_id="return-1", amount=20_00, reason="", now=now
    )
    charge(client, "order-2", 30_00, at=now, hold=True, hold_ttl_seconds=3600)
    return Today(client=client, wallet=Account.objects.get(client=client))


def log_in(page: Page) -> None:
    get_user_model().objects.create_superuser("operator", "op@example.com", PASSWORD)
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("operator")


def test_dashboard(page, today, screenshot):
    log_in(page)
    page.click("text=Dashboard")

    row = page.locator("#money-c2b-RUB")
    expect(row.locator(".today-charged")).to_have_text("120.00 RUB")
    expect(row.locator(".today-refunded")).to_have_text("20.00 RUB")
    expect(row.locator(".today-topped-up")).to_have_text("500.00 RUB")
    expect(page.locator("#chart-c2b-RUB svg rect.charged")).to_have_count(1)
    expect(page.locator("#holds")).to_contain_text("order-2")
    expect(page.locator("#upstreams tbody tr").first).to_contain_text("Balance")
    expect(page.locator("#upstreams tbody tr").first).to_contain_text("yes")
    screenshot("dashboard")


def test_export_the_charges_of_a_filter(page, today, screenshot, tmp_path):
    log_in(page)
    page.goto("/admin/charges/charge/")
    page.click("#changelist-filter >> text=held")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    screenshot("charges-held")

    with page.expect_download() as download:
        page.click("text=Export CSV (this filter)")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)

    with path.open(newline="") as exported:
        rows = list(csv.DictReader(exported))
    assert [(r["charge_id"], r["status"], r["amount"], r["currency"]) for r in rows] == [
        ("order-2", "HELD", "30.00", "RUB")
    ]
    assert Charge.objects.count() == 2


def test_wallet_statement(page, today, screenshot):
    log_in(page)
    page.goto(f"/admin/ledger/account/{today.wallet.pk}/change/")
    page.click("text=statement for a period")

    expect(page.locator("#opening")).to_have_text("0.00 RUB")
    expect(page.locator("#closing")).to_have_text("400.00 RUB")
    expect(page.locator("#statement-lines tbody tr")).to_have_count(3)
    screenshot("statement")

    page.fill("#id_start", "2001-01-01")
    page.fill("#id_end", "2001-02-01")
    page.click("input[value=Show]")
    expect(page.locator("#closing")).to_have_text("0.00 RUB")
    expect(page.locator("#statement-lines")).to_contain_text("No movements in this period.")
