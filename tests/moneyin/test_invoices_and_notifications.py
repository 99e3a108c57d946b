"""Prepay invoices and Balance's payment notifications end to end: billy serve takes NotifyOrder from
the emulator over loopback, jobs run here; the wallet ends with exactly what Balance shows paid,
whatever the number, order or loss of notifications, and a forged one changes nothing."""

from __future__ import annotations

import httpx

from billy.core.money import format_amount
from billy.integrations.balance import notification, port
from billy.moneyin.models import BalanceNotification, Invoice
from billy.workspaces.models import Workspace
from tests.conftest import NOW, make_api_key, make_workspace, wait_for
from tests.moneyin.conftest import (
    MoneyApi,
    answered_deliveries,
    notify_path,
    order_of,
    pay_on_page,
    process_notifications,
    run_janitor,
)


def invoice(money, invoice_id="inv-1", amount="1000.00", **extra):
    answer = money.post("/clients/client-1/invoices", {"invoice_id": invoice_id, "amount": amount, **extra})
    assert answer.status_code in (200, 201), answer.content
    return answer.json()


def paid_total(balance_control) -> int:
    (order,) = balance_control.orders()
    return round(float(order["PaidTotal"]) * 100)


def delivered(balance_control, order_id, count):
    return wait_for(
        lambda: len([d for d in answered_deliveries(balance_control, order_id) if d["outcome"] == "delivered"]) >= count
    )


def test_an_invoice_is_issued_in_one_call_then_read_and_listed(prepay_client, balance_control):
    created = prepay_client.post("/clients/client-1/invoices", {"invoice_id": "inv-1", "amount": "1000.00"})

    assert created.status_code == 201, created.content
    body = created.json()
    (in_balance,) = balance_control.invoices()
    assert {k: body[k] for k in ("invoice_id", "kind", "amount", "paid_amount", "currency", "status", "payer_id")} == {
        "invoice_id": "inv-1",
        "kind": "PREPAY",
        "amount": "1000.00",
        "paid_amount": "0.00",
        "currency": "RUB",
        "status": "ISSUED",
        "payer_id": "payer-1",
    }
    assert (body["number"], body["payment_url"]) == (in_balance["ExternalID"], in_balance["URL"])
    assert prepay_client.get("/clients/client-1/invoices/inv-1").json() == body
    assert prepay_client.get("/clients/client-1/invoices").json() == {"invoices": [body], "next_cursor": None}
    assert prepay_client.get("/clients/client-1/invoices?kind=CREDIT").json()["invoices"] == []


def test_the_same_invoice_id_answers_the_invoice_and_another_body_is_a_conflict(prepay_client, balance_control):
    invoice(prepay_client)
    again = prepay_client.post("/clients/client-1/invoices", {"invoice_id": "inv-1", "amount": "1000.00"})
    assert again.status_code == 200
    assert len(balance_control.calls("CreateInvoice")) == 1
    other = prepay_client.post("/clients/client-1/invoices", {"invoice_id": "inv-1", "amount": "999.00"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"


def test_no_active_contract_is_409(money, balance_control):
    money.register()
    answer = money.post("/clients/client-1/invoices", {"invoice_id": "inv-1", "amount": "1000.00"})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "no_active_contract"
    assert not Invoice.objects.exists() and balance_control.calls("CreateRequest") == []


def test_an_unknown_invoice_outcome_is_resolved_by_reading_back(prepay_client, balance_control):
    from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS

    balance_control.inject("commit_then_timeout", method="CreateInvoice", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    lost = prepay_client.post("/clients/client-1/invoices", {"invoice_id": "inv-1", "amount": "1000.00"})
    assert lost.status_code == 503, lost.content

    again = prepay_client.post("/clients/client-1/invoices", {"invoice_id": "inv-1", "amount": "1000.00"})
    assert again.status_code == 200 and again.json()["status"] == "ISSUED"  # the first call made it
    assert len(balance_control.invoices()) == 1
    assert again.json()["payment_url"] == balance_control.invoices()[0]["URL"]


def test_paid_on_the_page_the_wallet_has_the_money_and_the_invoice_is_paid(prepay_client, balance_control, notified):
    issued = invoice(prepay_client)
    order_id = order_of()

    pay_on_page(issued["payment_url"], "400.00")
    delivered(balance_control, order_id, 1)
    process_notifications()
    assert prepay_client.wallet()["available"] == "400.00"
    assert prepay_client.get("/clients/client-1/invoices/inv-1").json()["status"] == "PARTIALLY_PAID"

    pay_on_page(issued["payment_url"], "600.00")
    delivered(balance_control, order_id, 2)
    process_notifications()
    assert prepay_client.wallet()["available"] == "1000.00"
    body = prepay_client.get("/clients/client-1/invoices/inv-1").json()
    assert (body["status"], body["paid_amount"]) == ("PAID", "1000.00")
    history = prepay_client.get("/clients/client-1/wallet/transactions").json()["transactions"]
    assert [(t["kind"], t["amount"]) for t in history] == [("TOP_UP", "600.00"), ("TOP_UP", "400.00")]
    assert BalanceNotification.objects.filter(status="PROCESSED").count() == 2


def test_repeated_reordered_and_lost_notifications_book_exactly_what_was_paid(prepay_client, balance_control, notified):
    issued = invoice(prepay_client, amount="1000.00")
    order_id = order_of()
    balance_control.inject("repeat_notification", times=5)
    pay_on_page(issued["payment_url"], "100.00")  # delivered five times
    balance_control.inject("reorder_notification")
    pay_on_page(issued["payment_url"], "200.00")  # held until the next one is sent
    pay_on_page(issued["payment_url"], "300.00")
    balance_control.inject("lose_notification")
    pay_on_page(issued["payment_url"], "50.00")  # never sent: the janitor books it
    delivered(balance_control, order_id, 7)
    process_notifications()
    # Every NotifyOrder re-reads the order, so what arrived books all that was paid so far.
    assert prepay_client.wallet()["available"] == "650.00"

    assert run_janitor() == 0
    assert prepay_client.wallet()["available"] == format_amount(paid_total(balance_control)) == "650.00"
    assert BalanceNotification.objects.filter(status="PROCESSED").count() == 3  # seq 1, 2, 3: repeats dedup'd
    assert BalanceNotification.objects.get(seq=1).deliveries == 5


def test_the_janitor_books_a_lost_notification(prepay_client, balance_control, notified):
    issued = invoice(prepay_client)
    balance_control.inject("lose_notification")
    pay_on_page(issued["payment_url"], "1000.00")
    process_notifications()
    assert prepay_client.wallet()["available"] == "0.00"

    assert run_janitor() == 1
    assert prepay_client.wallet()["available"] == "1000.00"
    assert prepay_client.get("/clients/client-1/invoices/inv-1").json()["status"] == "PAID"


def _notify(url: str, order_id: int, *, seq: int, paid: int) -> httpx.Response:
    body = notification.notify_order_body(
        port.Notification(
            service_id=1002,
            order_id=order_id,
            seq=seq,
            currency="RUB",
            paid_total=paid,
            credit_total=0,
            consumed_total=0,
            at=NOW,
        )
    )
    return httpx.post(url, content=body, headers={"Content-Type": "text/xml"}, timeout=30)


def test_a_forged_notification_with_inflated_totals_books_only_what_balance_shows(
    prepay_client, balance_control, notified, workspace
):
    issued = invoice(prepay_client)
    pay_on_page(issued["payment_url"], "100.00")
    order_id = order_of()
    delivered(balance_control, order_id, 1)

    forged = _notify(notified.url + notify_path(workspace), order_id, seq=99, paid=1_000_000_00)
    assert forged.status_code == 200 and notification.is_success(forged.content)
    process_notifications()
    assert prepay_client.wallet()["available"] == "100.00"

    wrong_secret = _notify(
        notified.url + "/api/v1/workspaces/c2b/balance/notifications/guess", order_id, seq=100, paid=1
    )
    assert wrong_secret.status_code == 404
    assert BalanceNotification.objects.filter(status="FORGED").count() == 1
    unknown_order = _notify(notified.url + notify_path(workspace), 424242, seq=1, paid=1)
    assert unknown_order.status_code == 200
    assert BalanceNotification.objects.get(order_id=424242).status == "IGNORED"
    process_notifications()
    assert prepay_client.wallet()["available"] == "100.00"


def test_a_notification_that_is_not_xml_rpc_is_422(notified, workspace):
    answer = httpx.post(
        notified.url + notify_path(workspace), content=b"<nope/>", headers={"Content-Type": "text/xml"}, timeout=30
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "validation_failed"


def test_invoices_are_invisible_to_another_workspace(client, prepay_client):
    invoice(prepay_client)
    make_workspace("autoru", balance_service_id=1003)
    stranger = MoneyApi(client, make_api_key("autoru"), workspace="c2b")
    assert stranger.get("/clients/client-1/invoices/inv-1").status_code == 404
    assert stranger.get("/clients/client-1/invoices").status_code == 404
    other = MoneyApi(client, make_api_key("autoru"), workspace="autoru")
    assert other.get("/clients/client-1/invoices/inv-1").status_code == 404
    assert Workspace.objects.count() == 2
