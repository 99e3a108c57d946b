"""The hosted invoice page in a real browser with JavaScript off: a payer pays in part, then the rest.

Chromium is Debian's `/usr/bin/chromium`, which `scripts/bootstrap` installs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.integrations.balance_setup import issue_invoice, open_contract

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    _missing = f"{CHROMIUM} is missing: scripts/bootstrap installs Debian's chromium (as root, with apt-get)"
    if os.environ.get("CI") == "true":
        pytest.fail(_missing, pytrace=False)  # CI never skips the browser tests
    pytest.skip(_missing, allow_module_level=True)


@pytest.fixture
def page():
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # Playwright's sync API keeps an event loop in this thread; the Django settings fixture next to it
        # would refuse to run otherwise.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        context = browser.new_context(java_script_enabled=False)
        context.set_default_timeout(60_000)  # only a failure waits this long: room for a busy machine
        yield context.new_page()
        context.close()
        browser.close()


def test_a_payer_pays_an_invoice_in_part_then_in_full_without_javascript(page, balance):
    opened = open_contract(balance)
    invoice = issue_invoice(balance, opened, 150_000)

    page.goto(invoice.url)
    expect(page.locator("#left")).to_have_text("1500.00 RUB")
    page.fill("input[name=amount]", "500.00")
    page.click("#pay")
    expect(page.locator("#status")).to_have_text("partially_paid")
    expect(page.locator("#left")).to_have_text("1000.00 RUB")

    page.click("#pay")  # the form offers what is left

    expect(page.locator("#done")).to_be_visible()
    (info,) = balance.get_orders_info([opened.account.wallet_order_id])
    assert info.paid_total == 150_000
