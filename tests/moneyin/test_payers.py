"""Payers over HTTP: create in Balance, update, unchanged, read, list; the requisites table; isolation."""

from __future__ import annotations

import pytest

from billy.payers.models import Payer
from tests.conftest import make_api_key, make_workspace
from tests.moneyin.conftest import INDIVIDUAL_PAYER, LEGAL_PAYER, MoneyApi


def test_a_payer_is_created_in_balance_then_read_and_listed(money, balance_control):
    money.register()
    created = money.put("/clients/client-1/payers/payer-1", LEGAL_PAYER)

    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: body[k] for k in ("payer_id", "client", "type", "inn", "kpp", "phone", "status")} == {
        "payer_id": "payer-1",
        "client": "client-1",
        "type": "LEGAL",
        "inn": "7707083893",
        "kpp": "773601001",
        "phone": "+74951234567",
        "status": "ACTIVE",
    }
    (person,) = balance_control.persons()
    assert (person["INN"], person["Type"], person["KPP"]) == ("7707083893", "legal", "773601001")
    assert money.get("/clients/client-1/payers/payer-1").json() == body
    listed = money.get("/clients/client-1/payers").json()
    assert listed == {"payers": [body], "next_cursor": None}


def test_the_same_body_again_calls_nothing_and_a_change_updates_balance(money, balance_control):
    money.register()
    money.add_payer()
    calls = len(balance_control.calls("CreatePerson"))

    again = money.put("/clients/client-1/payers/payer-1", LEGAL_PAYER)
    assert again.status_code == 200
    assert len(balance_control.calls("CreatePerson")) == calls

    changed = money.put("/clients/client-1/payers/payer-1", {**LEGAL_PAYER, "email": "new@romashka.ru"})
    assert changed.status_code == 200 and changed.json()["email"] == "new@romashka.ru"
    (person,) = balance_control.persons()
    assert person["Email"] == "new@romashka.ru"


def test_an_individual_has_no_kpp(money):
    money.register()
    answer = money.put("/clients/client-1/payers/p-2", INDIVIDUAL_PAYER)
    assert answer.status_code == 201, answer.content
    assert (answer.json()["type"], answer.json()["kpp"]) == ("INDIVIDUAL", None)


BAD = [
    ("inn", {"inn": "7707083894"}),  # check digit
    ("inn", {"inn": "770708389"}),  # 9 digits
    ("inn", {"inn": "500100732259"}),  # an individual's INN for a legal entity
    ("inn", {"inn": "77070838 3"}),
    ("kpp", {"kpp": "77360100"}),
    ("kpp", {"kpp": None}),  # a legal entity has one
    ("bik", {"bik": "04452522"}),
    ("bank_account", {"bank_account": "40702810038000000001"}),  # control key off for this BIK
    ("bank_account", {"bank_account": "4070281093800000000"}),
    ("bank_account", {"bank_account": None}),  # a BIK without an account
    ("email", {"email": "not-an-email"}),
    ("phone", {"phone": "12"}),
    ("name", {"name": "   "}),
]


@pytest.mark.parametrize(("field", "change"), BAD, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD)])
def test_bad_requisites_are_422_with_the_field_nothing_stored_and_balance_not_called(
    money, balance_control, field, change
):
    money.register()
    answer = money.put("/clients/client-1/payers/payer-1", {**LEGAL_PAYER, **change})

    assert answer.status_code == 422, answer.content
    error = answer.json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["details"]["fields"]
    assert not Payer.objects.exists()
    assert balance_control.calls("CreatePerson") == []


def test_kpp_for_an_individual_is_refused(money, balance_control):
    money.register()
    answer = money.put("/clients/client-1/payers/payer-1", {**INDIVIDUAL_PAYER, "kpp": "773601001"})
    assert answer.status_code == 422
    assert "kpp" in answer.json()["error"]["details"]["fields"]
    assert balance_control.calls("CreatePerson") == []


def test_a_lower_case_type_is_refused(money):
    money.register()
    answer = money.put("/clients/client-1/payers/payer-1", {**LEGAL_PAYER, "type": "legal"})
    assert answer.status_code == 422


def test_a_payer_of_an_unknown_client_is_404(money):
    answer = money.put("/clients/nobody/payers/payer-1", LEGAL_PAYER)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "client_not_found"
    assert money.get("/clients/nobody/payers/payer-1").status_code == 404


def test_an_unknown_payer_is_404(money):
    money.register()
    answer = money.get("/clients/client-1/payers/nobody")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "payer_not_found"


def test_a_key_of_another_workspace_sees_nothing(client, money):
    money.register()
    money.add_payer()
    make_workspace("autoru", balance_service_id=1003)
    other = MoneyApi(client, make_api_key("autoru"), workspace="autoru")
    stranger = MoneyApi(client, make_api_key("autoru"), workspace="c2b")

    assert other.get("/clients/client-1/payers/payer-1").status_code == 404
    assert stranger.get("/clients/client-1/payers/payer-1").status_code == 404
    assert stranger.put("/clients/client-1/payers/payer-1", LEGAL_PAYER).status_code == 404


def test_idempotency_key_replays_the_first_answer(money, balance_control):
    money.register()
    first = money.put("/clients/client-1/payers/payer-1", LEGAL_PAYER, HTTP_IDEMPOTENCY_KEY="k-1")
    again = money.put("/clients/client-1/payers/payer-1", LEGAL_PAYER, HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    other = money.put("/clients/client-1/payers/payer-1", {**LEGAL_PAYER, "name": "Другое"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
