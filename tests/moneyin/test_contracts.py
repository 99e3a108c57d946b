"""Contracts over HTTP: an offer accepted in Balance, the personal account bound (at once or by the
job while Balance opens it), one contract per currency, credit limit changes, isolation."""

from __future__ import annotations

from billy.ledger.models import Account
from billy.payers.models import Contract
from tests.conftest import make_api_key, make_workspace
from tests.moneyin.conftest import POSTPAY, PREPAY, MoneyApi, process_notifications


def test_a_prepay_contract_binds_the_wallet_to_its_wallet_order(money, balance_control):
    money.register()
    money.add_payer()
    created = money.put("/clients/client-1/contracts/contract-1", PREPAY)

    assert created.status_code == 201, created.content
    body = created.json()
    (in_balance,) = balance_control.contracts()
    assert body["status"] == "ACTIVE"
    assert body["number"] == in_balance["ExternalID"]
    assert body["personal_account_number"]
    assert (body["payment_type"], body["currency"], body["credit_limit"]) == ("PREPAY", "RUB", "0.00")
    assert len(balance_control.calls("CreateOffer")) == 1
    contract = Contract.objects.get()
    (order,) = balance_control.orders()
    assert contract.wallet_order_id == order["OrderID"]
    assert money.get("/clients/client-1/contracts/contract-1").json() == body
    assert money.get("/clients/client-1/contracts").json() == {"contracts": [body], "next_cursor": None}


def test_the_same_body_again_calls_nothing(money, balance_control):
    money.register()
    money.add_payer()
    money.add_contract()
    again = money.put("/clients/client-1/contracts/contract-1", PREPAY)
    assert again.status_code == 200
    assert len(balance_control.calls("CreateOffer")) == 1


def test_the_contract_is_pending_while_balance_opens_the_account_then_the_job_binds_it(money, balance_control):
    money.register()
    money.add_payer()
    balance_control.configure(account_delay_seconds=3600)
    created = money.put("/clients/client-1/contracts/contract-1", PREPAY)
    assert created.status_code == 201 and created.json()["status"] == "PENDING"
    assert created.json()["personal_account_number"] is None

    balance_control.advance_clock(3601)
    process_notifications_and_binds()

    assert money.get("/clients/client-1/contracts/contract-1").json()["status"] == "ACTIVE"


def process_notifications_and_binds():
    from tests.subscriptions.conftest import run_jobs

    run_jobs(task_prefix="billy.payers.")
    process_notifications()


def test_a_postpay_contract_gives_the_wallet_its_credit_limit_and_a_change_reaches_balance(money, balance_control):
    money.register()
    money.add_payer()
    money.add_contract(body=POSTPAY)
    wallet = money.wallet()
    assert (wallet["credit_limit"], wallet["credit_used"], wallet["credit_available"]) == ("5000.00", "0.00", "5000.00")

    changed = money.put("/clients/client-1/contracts/contract-1", {**POSTPAY, "credit_limit": "7000.00"})
    assert changed.status_code == 200 and changed.json()["credit_limit"] == "7000.00"
    (contract,) = balance_control.contracts()
    assert contract["CreditLimit"] == "7000.00"
    assert money.wallet()["credit_limit"] == "7000.00"
    assert len(balance_control.calls("UpdateContract")) == 1


def test_a_second_contract_in_the_same_currency_is_409(money, balance_control):
    money.register()
    money.add_payer()
    money.add_contract()
    answer = money.put("/clients/client-1/contracts/contract-2", PREPAY)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "contract_exists"
    assert len(balance_control.calls("CreateOffer")) == 1


def test_another_payment_type_for_the_same_contract_id_is_a_conflict(money):
    money.register()
    money.add_payer()
    money.add_contract()
    answer = money.put("/clients/client-1/contracts/contract-1", POSTPAY)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "idempotency_conflict"


def test_bad_terms_are_422_naming_the_field(money, balance_control):
    money.register()
    money.add_payer()
    for change, field in (
        ({"credit_limit": "10.00"}, "credit_limit"),  # prepay
        ({"currency": "USD"}, "currency"),
        ({"payment_type": "prepay"}, "payment_type"),
    ):
        answer = money.put("/clients/client-1/contracts/contract-1", {**PREPAY, **change})
        assert answer.status_code == 422, (change, answer.content)
        assert field in answer.json()["error"]["details"]["fields"], answer.content
    assert balance_control.calls("CreateOffer") == []
    assert not Contract.objects.exists()


def test_an_unknown_payer_is_404(money):
    money.register()
    answer = money.put("/clients/client-1/contracts/contract-1", PREPAY)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "payer_not_found"
    assert money.get("/clients/client-1/contracts/contract-1").json()["error"]["code"] == "contract_not_found"


def test_a_key_of_another_workspace_sees_nothing(client, money):
    money.register()
    money.add_payer()
    money.add_contract()
    make_workspace("autoru", balance_service_id=1003)
    stranger = MoneyApi(client, make_api_key("autoru"), workspace="c2b")
    assert stranger.get("/clients/client-1/contracts/contract-1").status_code == 404
    assert stranger.get("/clients/client-1/contracts").status_code == 404
    assert stranger.put("/clients/client-1/contracts/contract-1", PREPAY).status_code == 404


def test_wallet_currency_is_the_contract_currency(money):
    money.register()
    money.add_payer()
    money.add_contract()
    assert Account.objects.get(kind=Account.Kind.WALLET).currency == "RUB"
