"""The hosted invoice page in a real browser with JavaScript off: a payer pays in part, then the rest.

Chromium is Debian's `/usr/bin/chromium`, which `scripts/bootstrap` installs.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import chromium, require_chromium
from tests.integrations.balance_setup import issue_invoice, open_contract

pytestmark = pytest.mark.slow

require_chromium()


@pytest.fixture
def page():
    with chromium() as browser:
        context = browser.new_context(java_script_enabled=False)
        context.set_default_timeout(60_000)  # only a failure waits this long: room for a busy machine
        yield context.new_page()
        context.close()


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
