"""The YooKassa emulator over loopback: the API as YooKassa speaks it, the payment page, webhooks, faults.

Raw HTTP here, so the tests see YooKassa's own JSON; the official SDK proves the protocol is faithful.
"""

import re
import uuid

import httpx
import pytest
from yookassa import Configuration, Payment, Refund

from billy.integrations.yookassa.emulator import YooKassaEmulator, YooKassaEmulatorControl
from tests.conftest import wait_for
from tests.integrations.conftest import SECRET_KEY, SHOP_ID, WebhookReceiver

RETURN_URL = "https://shop.example/payments/return"
PAYMENT = {
    "amount": {"value": "100.50", "currency": "RUB"},
    "capture": True,
    "confirmation": {"type": "redirect", "return_url": RETURN_URL},
    "description": "Подписка на месяц",
    "metadata": {"billy_payment_id": "p-1"},
}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def api(yookassa_emulator, yookassa_control):
    """Raw HTTP to /v3 as the test shop."""
    with httpx.Client(base_url=yookassa_emulator.api_url, auth=(SHOP_ID, SECRET_KEY), timeout=5) as client:
        yield client


@pytest.fixture
def page(yookassa_emulator, yookassa_control):
    """A browser-like client for the hosted payment page (redirects are looked at, not followed)."""
    with httpx.Client(base_url=yookassa_emulator.base_url, timeout=5) as client:
        yield client


def _create(api, body=None, key=None) -> httpx.Response:
    return api.post("/payments", json=body or PAYMENT, headers={"Idempotence-Key": key or str(uuid.uuid4())})


def _pending(api) -> dict:
    return _create(api).json()


def _succeeded(api, yookassa_control) -> dict:
    return yookassa_control.succeed(_pending(api)["id"])


def _refund(api, payment_id: str, value: str, key=None) -> httpx.Response:
    body = {"payment_id": payment_id, "amount": {"value": value, "currency": "RUB"}, "description": "refund"}
    return api.post("/refunds", json=body, headers={"Idempotence-Key": key or str(uuid.uuid4())})


def _recorded_deliveries(yookassa_control, count: int) -> list[dict]:
    """The delivery log once it holds `count` attempts: the receiver sees a POST before it is logged."""
    wait_for(lambda: len(yookassa_control.deliveries()) >= count)
    return yookassa_control.deliveries()


def _card_form(card_number="5555555555554477", expiry="12/35", cvc="123") -> dict:
    return {"card_number": card_number, "expiry": expiry, "cvc": cvc, "action": "pay"}


# -- the API -----------------------------------------------------------------------------------


def test_api_requires_basic_auth(yookassa_emulator, yookassa_control):
    response = httpx.post(f"{yookassa_emulator.api_url}/payments", json=PAYMENT, headers={"Idempotence-Key": "k"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert yookassa_control.payments() == []


def test_create_payment_requires_an_idempotence_key(api, yookassa_control):
    response = api.post("/payments", json=PAYMENT)
    assert response.status_code == 400
    assert {k: response.json()[k] for k in ("type", "code", "parameter")} == {
        "type": "error",
        "code": "invalid_request",
        "parameter": "Idempotence-Key",
    }
    assert yookassa_control.payments() == []


def test_pending_payment_looks_like_yookassas(api, yookassa_emulator):
    payment = _pending(api)
    assert {k: v for k, v in payment.items() if k not in ("id", "created_at", "recipient")} == {
        "status": "pending",
        "paid": False,
        "amount": {"value": "100.50", "currency": "RUB"},
        "description": "Подписка на месяц",
        "metadata": {"billy_payment_id": "p-1"},
        "confirmation": {
            "type": "redirect",
            "return_url": RETURN_URL,
            "confirmation_url": f"{yookassa_emulator.base_url}/checkout/{payment['id']}",
        },
        "refundable": False,
        "test": True,
    }
    assert TIMESTAMP.match(payment["created_at"])
    assert payment["recipient"]["account_id"] == SHOP_ID


def test_succeeded_payment_carries_the_card_and_the_income(api, yookassa_control):
    payment = _succeeded(api, yookassa_control)
    fetched = api.get(f"/payments/{payment['id']}").json()
    assert (fetched["status"], fetched["paid"], fetched["refundable"]) == ("succeeded", True, True)
    assert fetched["payment_method"]["card"]["last4"] == "4477"
    assert (fetched["refunded_amount"]["value"], fetched["income_amount"]["value"]) == ("0.00", "96.98")
    assert TIMESTAMP.match(fetched["captured_at"])


def test_a_shop_sees_only_its_own_payments(api, yookassa_emulator):
    payment = _pending(api)
    response = httpx.get(f"{yookassa_emulator.api_url}/payments/{payment['id']}", auth=("other-shop", "secret"))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("value", ["0.00", "1.234", "-5.00", "ten", 100])
def test_invalid_amount_is_refused_and_nothing_is_created(api, yookassa_control, value):
    response = _create(api, {**PAYMENT, "amount": {"value": value, "currency": "RUB"}})
    assert (response.status_code, response.json()["parameter"]) == (400, "amount.value")
    assert yookassa_control.payments() == []


def test_confirmation_needs_a_return_url(api, yookassa_control):
    response = _create(api, {**PAYMENT, "confirmation": {"type": "redirect"}})
    assert (response.status_code, response.json()["parameter"]) == (400, "confirmation.return_url")


def test_same_key_with_another_body_is_400_and_creates_nothing(api, yookassa_control):
    _create(api, key="key-1")
    response = _create(api, {**PAYMENT, "description": "other"}, key="key-1")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_request")
    assert len(yookassa_control.payments()) == 1


def test_list_is_newest_first_and_paged_with_a_cursor(api):
    ids = [_pending(api)["id"] for _ in range(3)]
    first = api.get("/payments", params={"limit": 2}).json()
    second = api.get("/payments", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [p["id"] for p in first["items"] + second["items"]] == ids[::-1]
    assert first["type"] == "list"
    assert "next_cursor" not in second


def test_list_filters_by_status(api, yookassa_control):
    paid = _succeeded(api, yookassa_control)
    _pending(api)
    items = api.get("/payments", params={"status": "succeeded"}).json()["items"]
    assert [p["id"] for p in items] == [paid["id"]]


def test_list_filters_by_creation_time(api, yookassa_control):
    older = _pending(api)
    yookassa_control.advance_clock(60)
    newer = _pending(api)
    newer_only = api.get("/payments", params={"created_at.gt": older["created_at"]}).json()["items"]
    older_only = api.get("/payments", params={"created_at.lt": newer["created_at"]}).json()["items"]
    assert ([p["id"] for p in newer_only], [p["id"] for p in older_only]) == ([newer["id"]], [older["id"]])


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"status": "paid"}, {"created_at.gte": "yesterday"}])
def test_bad_list_parameters_are_400(api, params):
    assert api.get("/payments", params=params).status_code == 400


def test_capture_false_waits_for_capture_then_captures(api, yookassa_control):
    payment = _create(api, {**PAYMENT, "capture": False}).json()
    authorized = yookassa_control.succeed(payment["id"])
    captured = api.post(f"/payments/{payment['id']}/capture", json={}, headers={"Idempotence-Key": "c-1"}).json()
    assert (authorized["status"], authorized["paid"], captured["status"]) == ("waiting_for_capture", True, "succeeded")


def test_cancel_of_an_authorized_payment_is_the_merchants(api, yookassa_control):
    payment = _create(api, {**PAYMENT, "capture": False}).json()
    yookassa_control.succeed(payment["id"])
    canceled = api.post(f"/payments/{payment['id']}/cancel", headers={"Idempotence-Key": "c-1"}).json()
    assert canceled["cancellation_details"] == {"party": "merchant", "reason": "canceled_by_merchant"}


def test_capture_of_a_pending_payment_is_refused(api):
    payment = _pending(api)
    response = api.post(f"/payments/{payment['id']}/capture", json={}, headers={"Idempotence-Key": "c-1"})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_request")


def test_refund_of_a_pending_payment_is_refused(api, yookassa_control):
    response = _refund(api, _pending(api)["id"], "1.00")
    assert (response.status_code, response.json()["parameter"]) == (400, "payment_id")
    assert yookassa_control.refunds() == []


def test_refunds_never_exceed_the_payment(api, yookassa_control):
    payment = _succeeded(api, yookassa_control)
    _refund(api, payment["id"], "100.00")
    response = _refund(api, payment["id"], "0.51")
    assert (response.status_code, response.json()["parameter"]) == (400, "amount.value")


def test_refund_updates_the_refunded_amount(api, yookassa_control):
    payment = _succeeded(api, yookassa_control)
    _refund(api, payment["id"], "40.25")
    assert api.get(f"/payments/{payment['id']}").json()["refunded_amount"] == {"value": "40.25", "currency": "RUB"}


def test_refunds_are_listed_by_payment(api, yookassa_control):
    first, second = _succeeded(api, yookassa_control), _succeeded(api, yookassa_control)
    refund = _refund(api, first["id"], "1.00").json()
    _refund(api, second["id"], "2.00")
    items = api.get("/refunds", params={"payment_id": first["id"]}).json()["items"]
    assert [r["id"] for r in items] == [refund["id"]]


def test_request_log_keeps_the_raw_body_and_outcome(yookassa_emulator, yookassa_control):
    raw = (
        b'{"amount": {"value": "1.00", "currency": "RUB"},'
        b' "confirmation": {"type": "redirect", "return_url": "https://s.example/"}}'
    )
    httpx.post(
        f"{yookassa_emulator.api_url}/payments",
        content=raw,
        auth=(SHOP_ID, SECRET_KEY),
        headers={"Idempotence-Key": "key-1", "Content-Type": "application/json"},
    )
    (entry,) = yookassa_control.requests("create_payment")
    assert (entry["body"], entry["idempotence_key"], entry["status"], entry["outcome"]) == (
        raw.decode(),
        "key-1",
        200,
        "ok",
    )


def test_fault_can_target_one_operation(api, yookassa_control):
    yookassa_control.inject("error", operation="get_payment")
    payment = _pending(api)
    assert api.get(f"/payments/{payment['id']}").status_code == 500
    assert api.get(f"/payments/{payment['id']}").status_code == 200


def test_reset_keeps_webhook_targets_unless_asked(yookassa_emulator, yookassa_control):
    yookassa_control.register_webhook(SHOP_ID, "http://127.0.0.1:9/hook")
    yookassa_control.reset()
    kept = httpx.get(f"{yookassa_emulator.base_url}/_emulator/webhooks").json()["webhooks"]
    yookassa_control.reset(webhooks=True)
    assert kept == {SHOP_ID: "http://127.0.0.1:9/hook"}
    assert httpx.get(f"{yookassa_emulator.base_url}/_emulator/webhooks").json()["webhooks"] == {}


# -- the hosted payment page -------------------------------------------------------------------


def test_page_shows_the_payment_and_the_card_form(api, page):
    payment = _pending(api)
    html = page.get(f"/checkout/{payment['id']}").text
    for fragment in (
        'id="card-number" name="card_number"',
        'id="expiry" name="expiry"',
        'id="cvc" name="cvc"',
        "Pay 100.50 ₽</button>",
        'id="cancel"',
        "Подписка на месяц",
        f"Shop {SHOP_ID}",
    ):
        assert fragment in html


def test_page_of_an_unknown_payment_is_404(page):
    response = page.get(f"/checkout/{uuid.uuid4()}")
    assert (response.status_code, "Payment not found" in response.text) == (404, True)


def test_paying_redirects_to_the_return_url(api, page):
    payment = _pending(api)
    response = page.post(f"/checkout/{payment['id']}", data=_card_form(card_number="5555 5555 5555 4477"))
    assert (response.status_code, response.headers["Location"]) == (303, RETURN_URL)
    assert api.get(f"/payments/{payment['id']}").json()["status"] == "succeeded"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (_card_form(card_number="5555555555554478"), "card number is invalid"),
        (_card_form(expiry="13/35"), "MM/YY"),
        (_card_form(expiry="01/20"), "expired"),
        (_card_form(cvc="12"), "CVC"),
    ],
)
def test_a_bad_form_shows_an_error_and_changes_nothing(api, page, form, message):
    payment = _pending(api)
    response = page.post(f"/checkout/{payment['id']}", data=form)
    error = re.search(r'<p id="error"[^>]*>(.*?)</p>', response.text)
    assert (response.status_code, message in error.group(1)) == (200, True)
    assert api.get(f"/payments/{payment['id']}").json()["status"] == "pending"


@pytest.mark.parametrize(
    ("card_number", "reason"), [("4000000000000002", "insufficient_funds"), ("4000000000000069", "card_expired")]
)
def test_decline_cards_cancel_the_payment(api, page, card_number, reason):
    payment = _pending(api)
    response = page.post(f"/checkout/{payment['id']}", data=_card_form(card_number=card_number))
    fetched = api.get(f"/payments/{payment['id']}").json()
    assert (response.status_code, response.headers["Location"]) == (303, RETURN_URL)
    assert (fetched["status"], fetched["cancellation_details"]) == (
        "canceled",
        {"party": "payment_network", "reason": reason},
    )


def test_cancel_button_cancels_as_expiry_would(api, page):
    payment = _pending(api)
    response = page.post(f"/checkout/{payment['id']}", data={"action": "cancel"})
    assert response.status_code == 303
    assert api.get(f"/payments/{payment['id']}").json()["cancellation_details"] == {
        "party": "yoo_money",
        "reason": "expired_on_confirmation",
    }


def test_page_of_a_final_payment_only_redirects(api, page, yookassa_control):
    payment = _pending(api)
    yookassa_control.cancel(payment["id"], reason="general_decline")
    response = page.post(f"/checkout/{payment['id']}", data=_card_form())
    assert (response.status_code, response.headers["Location"]) == (303, RETURN_URL)
    assert api.get(f"/payments/{payment['id']}").json()["status"] == "canceled"


def test_control_pay_submits_the_form(api, yookassa_control):
    assert yookassa_control.pay(_pending(api)["id"]) == "succeeded"


# -- time --------------------------------------------------------------------------------------


def test_pending_payment_expires_in_emulator_time(api, yookassa_control):
    payment = _pending(api)
    yookassa_control.advance_clock(3600 - 60)  # emulator time also runs with real time: a minute to spare
    still_pending = api.get(f"/payments/{payment['id']}").json()["status"]
    yookassa_control.advance_clock(61)
    assert (still_pending, api.get(f"/payments/{payment['id']}").json()["status"]) == ("pending", "canceled")


def test_background_thread_expires_payments_and_notifies():
    receiver = WebhookReceiver()
    emulator = YooKassaEmulator(webhooks={SHOP_ID: receiver.url}, pending_ttl_seconds=0.3).start()
    try:
        with httpx.Client(base_url=emulator.api_url, auth=(SHOP_ID, SECRET_KEY)) as api:
            payment = _pending(api)
            (notification,) = wait_for(receiver.received)  # no request to the emulator in between
        assert (notification["event"], notification["object"]["id"]) == ("payment.canceled", payment["id"])
    finally:
        emulator.stop()
        receiver.stop()


# -- webhooks ----------------------------------------------------------------------------------


def test_payment_succeeded_is_delivered_with_the_full_object(api, yookassa_control, webhook_receiver):
    payment = _succeeded(api, yookassa_control)
    (notification,) = wait_for(webhook_receiver.received)
    fetched = api.get(f"/payments/{payment['id']}").json()
    assert notification == {"type": "notification", "event": "payment.succeeded", "object": fetched}


def test_refund_succeeded_is_delivered(api, yookassa_control, webhook_receiver):
    payment = _succeeded(api, yookassa_control)
    refund = _refund(api, payment["id"], "1.00").json()
    notifications = wait_for(lambda: webhook_receiver.received()[1:])
    assert [(n["event"], n["object"]["id"]) for n in notifications] == [("refund.succeeded", refund["id"])]


def test_notification_is_redelivered_until_200(api, yookassa_control, webhook_receiver):
    webhook_receiver.answers = [500, 503]
    _succeeded(api, yookassa_control)
    deliveries = _recorded_deliveries(yookassa_control, 3)
    attempts = [(d["attempt"], d["status"], d["outcome"]) for d in deliveries]
    assert attempts == [(1, 500, "failed"), (2, 503, "failed"), (3, 200, "delivered")]
    assert len(webhook_receiver.received()) == 3


def test_lose_webhook_never_delivers_that_notification(api, yookassa_control, webhook_receiver):
    yookassa_control.inject("lose_webhook")
    _succeeded(api, yookassa_control)
    delivered = _succeeded(api, yookassa_control)
    deliveries = _recorded_deliveries(yookassa_control, 2)
    assert [d["outcome"] for d in deliveries] == ["lost", "delivered"]
    assert [n["object"]["id"] for n in webhook_receiver.received()] == [delivered["id"]]


def test_repeat_webhook_delivers_a_notification_n_times(api, yookassa_control, webhook_receiver):
    yookassa_control.inject("repeat_webhook", times=3)
    payment = _succeeded(api, yookassa_control)
    wait_for(lambda: yookassa_control.queued_notifications() == 0 and len(webhook_receiver.received()) >= 3)
    assert [n["object"]["id"] for n in webhook_receiver.received()] == [payment["id"]] * 3


def test_delay_webhook_lets_a_later_notification_arrive_first(api, yookassa_control, webhook_receiver):
    yookassa_control.inject("delay_webhook", seconds=300)
    _succeeded(api, yookassa_control)
    overtaking = _succeeded(api, yookassa_control)
    wait_for(webhook_receiver.received)
    assert [n["object"]["id"] for n in webhook_receiver.received()] == [overtaking["id"]]
    assert yookassa_control.queued_notifications() == 1  # the first one, still held back


def test_refund_pending_settles_and_notifies(api, yookassa_control, webhook_receiver):
    payment = _succeeded(api, yookassa_control)
    yookassa_control.inject("refund_pending", seconds=0.3)
    refund = _refund(api, payment["id"], "1.00").json()
    notifications = wait_for(lambda: webhook_receiver.received()[1:])
    assert refund["status"] == "pending"
    assert [(n["event"], n["object"]["status"]) for n in notifications] == [("refund.succeeded", "succeeded")]


def test_refund_cancel_uses_the_given_reason(api, yookassa_control):
    payment = _succeeded(api, yookassa_control)
    yookassa_control.inject("refund_cancel", reason="insufficient_funds")
    refund = _refund(api, payment["id"], "1.00").json()
    assert (refund["status"], refund["cancellation_details"]) == (
        "canceled",
        {"party": "yoo_money", "reason": "insufficient_funds"},
    )


# -- persistence -------------------------------------------------------------------------------


def test_state_file_keeps_objects_keys_and_webhooks_across_a_restart(tmp_path):
    state_file = tmp_path / "yookassa.json"
    first = YooKassaEmulator(state_file=state_file, webhooks={SHOP_ID: "http://127.0.0.1:9/hook"}).start()
    with httpx.Client(base_url=first.api_url, auth=(SHOP_ID, SECRET_KEY)) as api:
        payment = YooKassaEmulatorControl(first.base_url).succeed(_create(api, key="key-1").json()["id"])
        refund = _refund(api, payment["id"], "1.00").json()
    first.stop()
    second = YooKassaEmulator(state_file=state_file).start()
    try:
        with httpx.Client(base_url=second.api_url, auth=(SHOP_ID, SECRET_KEY)) as api:
            assert api.get(f"/refunds/{refund['id']}").json()["status"] == "succeeded"
            assert _create(api, key="key-1").json()["id"] == payment["id"]
        assert httpx.get(f"{second.base_url}/_emulator/webhooks").json()["webhooks"] == {
            SHOP_ID: "http://127.0.0.1:9/hook"
        }
    finally:
        second.stop()


# -- the official SDK --------------------------------------------------------------------------


@pytest.fixture
def sdk(yookassa_emulator, yookassa_control):
    """The `yookassa` SDK pointed at the emulator; its configuration is global, so it is restored."""
    names = ("account_id", "secret_key", "auth_token", "api_url", "timeout", "max_attempts", "verify", "logger")
    saved = {name: getattr(Configuration, name) for name in names}
    Configuration.configure(SHOP_ID, SECRET_KEY, api_url=yookassa_emulator.api_url)
    yield
    for name, value in saved.items():
        setattr(Configuration, name, value)


def test_official_sdk_works_against_the_emulator(sdk, yookassa_control):
    params = {
        "amount": {"value": "250.00", "currency": "RUB"},
        "confirmation": {"type": "redirect", "return_url": RETURN_URL},
        "capture": True,
        "description": "SDK payment",
    }
    created = Payment.create(params, "sdk-key-1")
    assert Payment.create(params, "sdk-key-1").id == created.id
    assert (created.status, created.confirmation.confirmation_url) == (
        "pending",
        yookassa_control.payment(created.id)["confirmation"]["confirmation_url"],
    )
    yookassa_control.succeed(created.id)
    paid = Payment.find_one(created.id)
    assert (paid.status, paid.paid, paid.payment_method.card.last4) == ("succeeded", True, "4477")
    refund = Refund.create(
        {"payment_id": created.id, "amount": {"value": "50.00", "currency": "RUB"}, "description": "SDK refund"},
        "sdk-refund-1",
    )
    assert (refund.status, str(refund.amount.value)) == ("succeeded", "50.00")
    assert [p.id for p in Payment.list({"limit": 10}).items] == [created.id]
    assert [r.id for r in Refund.list({"payment_id": created.id}).items] == [refund.id]
