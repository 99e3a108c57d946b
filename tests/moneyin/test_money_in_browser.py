"""The README's flow end to end over real sockets: billy serve and billy worker on the test database,
the Balance emulator, and a person paying the invoice on Balance's page in a real browser (Debian's
Chromium, JavaScript off): register a client, add a payer and a prepay contract, form an invoice of
1,000.00, pay it, see the wallet and the invoice, then charge 300.00."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import billy_process, make_api_key, wait_for
from tests.moneyin.conftest import LEGAL_PAYER, PREPAY, TEST_NOTIFY_SCALE, notify_path

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    _missing = f"{CHROMIUM} is missing: scripts/bootstrap installs Debian's chromium (as root, with apt-get)"
    if os.environ.get("CI") == "true":
        pytest.fail(_missing, pytrace=False)
    pytest.skip(_missing, allow_module_level=True)


@pytest.fixture
def page():
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        context = browser.new_context(java_script_enabled=False)
        context.set_default_timeout(60_000)
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture
def worker(live_billy, balance_emulator, tmp_path):
    log = (tmp_path / "worker.log").open("w")
    process = billy_process(
        "worker",
        env={"BALANCE_URL": balance_emulator.url, "BILLY_LOG_LEVEL": "WARNING"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    process.wait(timeout=30)


def test_invoice_paid_in_a_browser_tops_the_wallet_up_and_it_is_charged(
    page, live_billy, worker, workspace, balance_control
):
    balance_control.configure(
        notify_urls={workspace.balance_service_id: live_billy.url + notify_path(workspace)},
        notify_scale=TEST_NOTIFY_SCALE,
    )
    api = httpx.Client(
        base_url=live_billy.url + "/api/v1/workspaces/c2b",
        headers={"Authorization": f"Bearer {make_api_key('c2b')}"},
        timeout=30,
    )
    client = "/clients/client-1"
    assert (
        api.put(client, json={"name": "ООО Ромашка", "email": "info@romashka.ru", "phone": "+74951234567"}).status_code
        == 201
    )
    assert api.put(client + "/payers/payer-1", json=LEGAL_PAYER).status_code == 201
    assert api.put(client + "/contracts/contract-1", json=PREPAY).json()["status"] == "ACTIVE"
    invoice = api.post(client + "/invoices", json={"invoice_id": "inv-1", "amount": "1000.00"})
    assert invoice.status_code == 201, invoice.text

    page.goto(invoice.json()["payment_url"])
    expect(page.locator("#left")).to_have_text("1000.00 RUB")
    page.click("#pay")
    expect(page.locator("#done")).to_be_visible()

    wallet = wait_for(lambda: (w := api.get(client + "/wallet").json())["available"] == "1000.00" and w, timeout=120)
    assert wallet["balance"] == "1000.00"
    assert wait_for(lambda: api.get(client + "/invoices/inv-1").json()["status"] == "PAID", timeout=120)
    charge = api.post(client + "/charges", json={"charge_id": "ch-1", "product": "listing", "amount": "300.00"})
    assert charge.status_code == 201, charge.text
    assert api.get(client + "/wallet").json()["available"] == "700.00"
