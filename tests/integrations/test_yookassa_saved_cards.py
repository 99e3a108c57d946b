"""The YooKassa emulator's saved cards over loopback: a payment that saves the card paid with, later
payments by the saved method without the payer, cards that refuse saving or decline at renewal, and
the control calls that make a saved card decline. The official SDK does the same."""

import uuid

import httpx
import pytest
from yookassa import Configuration, Payment

from tests.integrations.conftest import SECRET_KEY, SHOP_ID

RETURN_URL = "https://shop.example/payments/return"
FIRST = {
    "amount": {"value": "299.00", "currency": "RUB"},
    "capture": True,
    "confirmation": {"type": "redirect", "return_url": RETURN_URL},
    "description": "Subscription",
    "metadata": {"billy_payment_id": "p-1"},
    "save_payment_method": True,
}


@pytest.fixture
def api(yookassa_emulator, yookassa_control):
    with httpx.Client(base_url=yookassa_emulator.api_url, auth=(SHOP_ID, SECRET_KEY), timeout=5) as client:
        yield client


def _create(api, body) -> httpx.Response:
    return api.post("/payments", json=body, headers={"Idempotence-Key": str(uuid.uuid4())})


def _saved_method(api, yookassa_control, card: str = "5555555555554477") -> dict:
    created = _create(api, FIRST).json()
    yookassa_control._post(f"/_emulator/payments/{created['id']}/succeed", {"card_number": card})
    return api.get(f"/payments/{created['id']}").json()["payment_method"]


def _by_method(method_id: str) -> dict:
    return {
        "amount": {"value": "299.00", "currency": "RUB"},
        "capture": True,
        "description": "Renewal",
        "metadata": {"billy_payment_id": "p-2"},
        "payment_method_id": method_id,
    }


def test_the_card_paid_with_is_saved_and_charged_again_without_the_payer(api, yookassa_control):
    method = _saved_method(api, yookassa_control)

    renewal = _create(api, _by_method(method["id"]))

    assert (method["saved"], method["card"]["last4"]) == (True, "4477")
    assert renewal.status_code == 200, renewal.text
    body = renewal.json()
    assert (body["status"], body["paid"], body["payment_method"]["id"]) == ("succeeded", True, method["id"])
    assert "confirmation" not in body
    assert [m["id"] for m in yookassa_control.payment_methods()] == [method["id"]]


def test_a_payment_without_save_payment_method_saves_nothing(api, yookassa_control):
    created = _create(api, {k: v for k, v in FIRST.items() if k != "save_payment_method"}).json()
    yookassa_control.succeed(created["id"])

    assert api.get(f"/payments/{created['id']}").json()["payment_method"]["saved"] is False
    assert yookassa_control.payment_methods() == []


def test_a_card_that_refuses_saving_cannot_be_charged_again(api, yookassa_control):
    method = _saved_method(api, yookassa_control, card="4000000000000077")

    refused = _create(api, _by_method(method["id"]))

    assert method["saved"] is False
    assert (refused.status_code, refused.json()["parameter"]) == (400, "payment_method_id")


def test_cards_that_decline_at_renewal_and_the_control_calls(api, yookassa_control):
    method = _saved_method(api, yookassa_control, card="4000000000000101")

    declined = _create(api, _by_method(method["id"])).json()
    yookassa_control.decline_method(method["id"], None)
    paid = _create(api, _by_method(method["id"])).json()
    yookassa_control.expire_method(method["id"])
    expired = _create(api, _by_method(method["id"])).json()

    assert (declined["status"], declined["cancellation_details"]) == (
        "canceled",
        {"party": "payment_network", "reason": "insufficient_funds"},
    )
    assert paid["status"] == "succeeded"
    assert (expired["status"], expired["cancellation_details"]["reason"]) == ("canceled", "card_expired")


def test_the_official_sdk_saves_a_card_and_pays_with_it(yookassa_emulator, yookassa_control):
    names = ("account_id", "secret_key", "auth_token", "api_url", "timeout", "max_attempts", "verify", "logger")
    saved = {name: getattr(Configuration, name) for name in names}
    Configuration.configure(SHOP_ID, SECRET_KEY, api_url=yookassa_emulator.api_url)
    try:
        first = Payment.create(FIRST, "sdk-save-1")
        yookassa_control.succeed(first.id)
        method = Payment.find_one(first.id).payment_method
        renewal = Payment.create(_by_method(method.id), "sdk-renew-1")
    finally:
        for name, value in saved.items():
            setattr(Configuration, name, value)

    assert (method.saved, method.card.last4) == (True, "4477")
    assert (renewal.status, renewal.payment_method.id) == ("succeeded", method.id)
