"""The admin's pages read like an operator's screen: money as decimals with its currency, related
records linked both ways, readable labels, no Save button where nothing can be saved, secrets never
sent to the browser, and refund forms that say how much goes back."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from billy.charges.models import Charge
from billy.ledger.models import Entry, LedgerTransaction
from billy.workspaces.models import Workspace
from tests.charges.conftest import fund, make_client
from tests.conftest import make_workspace
from tests.console.conftest import charge


def page(operator, url: str) -> str:
    answer = operator.get(url)
    assert answer.status_code == 200, url
    return answer.content.decode()


def change(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def links_to(html: str, obj) -> bool:
    return f'href="{change(obj)}"' in html


def test_charge_page_shows_money_as_decimals_and_no_request_json(operator, history):
    html = page(operator, change(history.completed))

    for shown in ("120.00 RUB", "20.00 RUB", "100.00 RUB"):
        assert shown in html
    assert "12000" not in html and "2000 " not in html
    assert '"charge_id"' not in html and ">Request:<" not in html


def test_wallet_page_shows_its_figures_as_decimals(operator, history):
    html = page(operator, change(history.wallet))

    # 500.00 topped up - 120.00 charged + 20.00 refunded; 30.00 held.
    for label, shown in [
        ("balance", "400.00 RUB"),
        ("held", "30.00 RUB"),
        ("available", "370.00 RUB"),
        ("net consumption", "100.00 RUB"),
    ]:
        assert re.search(rf"{label}.*?{re.escape(shown)}", html, re.S | re.I), label
    assert "40000" not in html


def test_transaction_page_and_its_entries_show_decimals(operator, history):
    html = page(operator, change(history.completed.transaction))

    assert "-120.00 RUB" in html and "120.00 RUB" in html
    assert "-12000" not in html


@pytest.mark.parametrize(
    ("record", "shown"),
    [("top_up", "500.00 RUB"), ("refund", "20.00 RUB")],
)
def test_adjustment_and_refund_pages_show_decimals(operator, history, record, shown):
    html = page(operator, change(getattr(history, record)))

    assert shown in html


def test_entry_page_shows_a_decimal(operator, history):
    entry = Entry.objects.get(transaction=history.top_up.transaction, account=history.wallet)

    html = page(operator, change(entry))

    assert "500.00 RUB" in html and "50000" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/admin/charges/charge/",
        "/admin/charges/refund/",
        "/admin/ledger/account/",
        "/admin/ledger/ledgertransaction/",
        "/admin/ledger/entry/",
        "/admin/ledger/adjustment/",
    ],
)
def test_lists_show_money_as_decimals(operator, history, url):
    html = page(operator, url)

    assert re.search(r"\d+\.\d\d RUB", html)
    assert not re.search(r">\s*-?(12000|2000|50000|40000)\s*<", html)


def test_client_wallet_charges_and_transactions_link_both_ways(operator, history):
    client_page = page(operator, change(history.client))
    wallet_page = page(operator, change(history.wallet))
    charge_page = page(operator, change(history.completed))
    transaction_page = page(operator, change(history.completed.transaction))
    refund_page = page(operator, change(history.refund))
    adjustment_page = page(operator, change(history.top_up))

    assert links_to(client_page, history.wallet)
    assert f"/admin/charges/charge/?client__id__exact={history.client.pk}" in client_page
    assert links_to(wallet_page, history.client)
    assert f"/admin/charges/charge/?wallet__id__exact={history.wallet.pk}" in wallet_page
    assert f"/admin/ledger/ledgertransaction/?entries__account__id__exact={history.wallet.pk}" in wallet_page
    assert links_to(charge_page, history.client) and links_to(charge_page, history.wallet)
    assert links_to(charge_page, history.completed.transaction)
    assert links_to(charge_page, history.refund)  # the refunds inline
    assert links_to(transaction_page, history.completed)  # what the transaction was for
    assert links_to(transaction_page, history.wallet)  # its entries' accounts
    assert links_to(refund_page, history.completed) and links_to(refund_page, history.refund.transaction)
    assert links_to(adjustment_page, history.wallet) and links_to(adjustment_page, history.top_up.transaction)


def test_filtered_lists_behind_the_links_show_the_right_rows(operator, history, workspace):
    other = make_client(workspace, "client-2")
    fund(other, 10_00)
    charge(other, "other-order", 1_00)

    charges_of_client = page(operator, f"/admin/charges/charge/?client__id__exact={history.client.pk}")
    transactions_of_wallet = page(
        operator, f"/admin/ledger/ledgertransaction/?entries__account__id__exact={history.wallet.pk}"
    )
    transactions_of_client = page(
        operator, f"/admin/ledger/ledgertransaction/?entries__account__client__id__exact={history.client.pk}"
    )

    assert "order-1" in charges_of_client and "other-order" not in charges_of_client
    for html in (transactions_of_wallet, transactions_of_client):
        assert links_to(html, history.completed) and not links_to(html, Charge.objects.get(charge_id="other-order"))


def test_labels_are_readable(operator, history):
    html = page(operator, change(history.completed))
    ledger_index = page(operator, "/admin/ledger/")

    assert "client-1 (ООО Ромашка)" in html
    assert "wallet of client-1 (RUB)" in html
    assert f"charge #{history.completed.transaction_id}" in html
    assert "Entries" in ledger_index and "Entrys" not in ledger_index
    assert f"{history.client.workspace_id}:client-1" not in html
    assert str(LedgerTransaction.objects.get(pk=history.top_up.transaction_id)) == (
        f"adjustment #{history.top_up.transaction_id}"
    )


@pytest.mark.parametrize(
    "record",
    ["client", "wallet", "completed", "refund", "top_up", "transaction", "entry"],
)
def test_read_only_pages_have_no_save_button(operator, history, record):
    obj = {
        "transaction": history.completed.transaction,
        "entry": Entry.objects.filter(transaction=history.completed.transaction).first(),
    }.get(record) or getattr(history, record)

    html = page(operator, change(obj))

    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert operator.post(change(obj), {}).status_code == 403


def test_yookassa_secret_key_is_never_rendered_and_kept_when_left_empty(operator, transactional_db):
    workspace = make_workspace("cinema")
    Workspace.objects.filter(pk=workspace.pk).update(
        yookassa_api_url="https://api.yookassa.ru/v3", yookassa_shop_id="100500", yookassa_secret_key="live_s3cret"
    )
    url = change(workspace)

    html = page(operator, url)
    form = {
        "name": "cinema",
        "title": "Cinema",
        "balance_service_id": "1002",
        "balance_integration": "cinema",
        "balance_configuration": "cinema_default",
        "time_zone": "Europe/Moscow",
        "currency": "RUB",
        "yookassa_api_url": "https://api.yookassa.ru/v3",
        "yookassa_shop_id": "100500",
        "yookassa_secret_key": "",
    }
    kept = operator.post(url, form)
    after_keep = Workspace.objects.get(pk=workspace.pk).yookassa_secret_key
    replaced = operator.post(url, {**form, "yookassa_secret_key": "live_n3w"})

    assert "live_s3cret" not in html
    assert re.search(r'<input type="password" name="yookassa_secret_key"[^>]*>', html)
    assert "A secret key is stored" in html
    assert (kept.status_code, after_keep) == (302, "live_s3cret")
    assert (replaced.status_code, Workspace.objects.get(pk=workspace.pk).yookassa_secret_key) == (302, "live_n3w")
    assert "live_n3w" not in page(operator, url) and "live_s3cret" not in page(operator, "/admin/workspaces/workspace/")


def test_charge_refund_form_says_how_much_will_be_refunded(operator, history):
    form = operator.post(
        "/admin/charges/charge/", {"action": "refund", "_selected_action": [history.completed.pk]}
    ).content.decode()

    assert "This refunds 100.00 RUB to the client&#x27;s wallet" in form or "This refunds 100.00 RUB" in form
    assert re.search(r'name="amount"[^>]*value="100.00"', form)
