"""Postpay credit: transfers up to the limit, one kopeck more refused with nothing written, 16
concurrent transfers against the limit (real threads, real server), an unknown DepositFromCredit
outcome resolved by reading back, repayment restoring the limit without adding money."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from billy.ledger.models import LedgerTransaction
from billy.moneyin.models import CreditTransfer, Invoice
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS
from tests.moneyin.conftest import pay_on_page, process_notifications, run_janitor


def transfer(money, transfer_id, amount):
    return money.post("/clients/client-1/wallet/credit-transfers", {"transfer_id": transfer_id, "amount": amount})


def test_transfers_up_to_the_limit_succeed_and_one_kopeck_more_is_422(postpay_client, balance_control):
    first = transfer(postpay_client, "t-1", "3000.00")
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "SUCCEEDED"
    assert first.json()["wallet"]["available"] == "3000.00"
    second = transfer(postpay_client, "t-2", "2000.00")
    assert second.status_code == 201 and second.json()["wallet"]["available"] == "5000.00"
    wallet = postpay_client.wallet()
    assert (wallet["credit_used"], wallet["credit_available"]) == ("5000.00", "0.00")

    over = transfer(postpay_client, "t-3", "0.01")
    assert over.status_code == 422 and over.json()["error"]["code"] == "credit_limit_exceeded"
    assert not CreditTransfer.objects.filter(transfer_id="t-3").exists()
    assert len(balance_control.calls("DepositFromCredit")) == 2
    kinds = LedgerTransaction.objects.values_list("kind", flat=True)
    assert sorted(kinds) == ["CREDIT", "CREDIT"]


def test_a_repeat_answers_the_transfer_and_another_body_is_a_conflict(postpay_client, balance_control):
    transfer(postpay_client, "t-1", "100.00")
    again = transfer(postpay_client, "t-1", "100.00")
    assert again.status_code == 200 and again.json()["status"] == "SUCCEEDED"
    assert postpay_client.wallet()["available"] == "100.00"
    other = transfer(postpay_client, "t-1", "200.00")
    assert other.status_code == 409
    assert len(balance_control.calls("DepositFromCredit")) == 1
    assert postpay_client.get("/clients/client-1/wallet/credit-transfers/t-1").json()["amount"] == "100.00"


def test_a_prepay_client_has_no_credit(prepay_client):
    answer = transfer(prepay_client, "t-1", "100.00")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "contract_not_postpay"


def test_sixteen_concurrent_transfers_book_exactly_five(live_billy, postpay_client, service_key, balance_control):
    url = f"{live_billy.url}/api/v1/workspaces/c2b/clients/client-1/wallet/credit-transfers"

    def post(i):
        return httpx.post(
            url,
            json={"transfer_id": f"c-{i}", "amount": "1000.00"},
            headers={"Authorization": f"Bearer {service_key}"},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = sorted(pool.map(post, range(16)))

    assert statuses == [201] * 5 + [422] * 11
    assert len(balance_control.calls("DepositFromCredit")) == 5
    assert CreditTransfer.objects.filter(status="SUCCEEDED").count() == 5
    wallet = postpay_client.wallet()
    assert (wallet["available"], wallet["credit_used"], wallet["credit_available"]) == ("5000.00", "5000.00", "0.00")


def test_a_deposit_committed_with_its_answer_lost_is_resolved_by_reading_back(postpay_client, balance_control):
    balance_control.inject("commit_then_timeout", method="DepositFromCredit", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    answer = transfer(postpay_client, "t-1", "1000.00")

    assert answer.status_code == 201, answer.content
    assert answer.json()["status"] == "SUCCEEDED"
    assert len(balance_control.calls("DepositFromCredit")) == 1
    (in_balance,) = balance_control.contracts()
    assert in_balance["CreditUsed"] == "1000.00"
    assert CreditTransfer.objects.count() == 1
    assert postpay_client.wallet()["available"] == "1000.00"


def test_a_refused_deposit_gives_the_reservation_back(postpay_client, balance_control):
    balance_control.inject("fault", method="DepositFromCredit", code="TOO_MANY_OPERATIONS")
    answer = transfer(postpay_client, "t-1", "1000.00")
    assert answer.status_code == 502, answer.content
    assert CreditTransfer.objects.get().status == "FAILED"
    wallet = postpay_client.wallet()
    assert (wallet["available"], wallet["credit_used"]) == ("0.00", "0.00")


def test_repaying_the_credit_invoice_restores_the_limit_and_adds_no_money(postpay_client, balance_control):
    transfer(postpay_client, "t-1", "3000.00")
    closed = balance_control.close_month(balance_control.now().strftime("%Y-%m"))
    (credit_invoice,) = [i for i in closed["invoices"] if i["Kind"] == "credit"]

    run_janitor()
    listed = postpay_client.get("/clients/client-1/invoices?kind=CREDIT").json()["invoices"]
    assert [(i["kind"], i["amount"], i["status"]) for i in listed] == [("CREDIT", "3000.00", "ISSUED")]
    assert postpay_client.wallet()["credit_available"] == "2000.00"

    pay_on_page(listed[0]["payment_url"], "3000.00")
    process_notifications()
    run_janitor()

    wallet = postpay_client.wallet()
    assert (wallet["available"], wallet["credit_used"], wallet["credit_available"]) == ("3000.00", "0.00", "5000.00")
    assert Invoice.objects.get(kind="CREDIT").status == "PAID"
    assert credit_invoice["ExternalID"] == listed[0]["number"]
