"""The YooKassa adapter against the emulator over loopback: protocol, idempotence, faults, and what is known."""

import datetime as dt
import json

import pytest

from billy.integrations.yookassa import get_payment_provider
from billy.integrations.yookassa.client import YooKassaClient, parse_notification
from billy.integrations.yookassa.port import (
    Notification,
    PaymentRequest,
    ProviderNotFound,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
    RefundRequest,
    ShopCredentials,
)
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS, wait_for
from tests.integrations.conftest import SHOP_ID

REQUEST = PaymentRequest(
    amount=123450,
    currency="RUB",
    description="Подписка «Плюс» на месяц",
    return_url="https://shop.example/payments/return",
    metadata={"billy_payment_id": "0b7f4f8e-6c55-4a8f-9a34-0c0b3a1d2e11"},
)
DAY = 24 * 3600


def _since() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def _paid(yookassa, yookassa_control, key: str = "pay-1"):
    payment = yookassa.create_payment(REQUEST, idempotence_key=key)
    yookassa_control.succeed(payment.id)
    return payment


def test_create_payment_returns_a_pending_payment_with_a_payment_page(yookassa, yookassa_emulator):
    payment = yookassa.create_payment(REQUEST, idempotence_key="key-1")
    assert (payment.status, payment.paid, payment.amount, payment.currency, payment.metadata) == (
        "pending",
        False,
        123450,
        "RUB",
        REQUEST.metadata,
    )
    assert payment.confirmation_url == f"{yookassa_emulator.base_url}/checkout/{payment.id}"
    assert abs(payment.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_create_payment_speaks_yookassa_json(yookassa, yookassa_control):
    yookassa.create_payment(REQUEST, idempotence_key="key-1")
    (request,) = yookassa_control.requests("create_payment")
    assert json.loads(request["body"]) == {
        "amount": {"value": "1234.50", "currency": "RUB"},
        "capture": True,
        "confirmation": {"type": "redirect", "return_url": REQUEST.return_url},
        "description": REQUEST.description,
        "metadata": REQUEST.metadata,
    }
    assert request["idempotence_key"] == "key-1"


def test_get_payment_sees_it_paid(yookassa, yookassa_control):
    payment = _paid(yookassa, yookassa_control)
    fetched = yookassa.get_payment(payment.id)
    assert (fetched.status, fetched.paid, fetched.confirmation_url) == ("succeeded", True, None)


def test_get_payment_reports_who_canceled_and_why(yookassa, yookassa_control):
    payment = yookassa.create_payment(REQUEST, idempotence_key="key-1")
    yookassa_control.pay(payment.id, card_number="4000000000000002")
    fetched = yookassa.get_payment(payment.id)
    assert (fetched.status, fetched.cancellation_party, fetched.cancellation_reason) == (
        "canceled",
        "payment_network",
        "insufficient_funds",
    )


def test_get_unknown_payment_is_not_found(yookassa):
    with pytest.raises(ProviderNotFound) as error:
        yookassa.get_payment("2d1b0f1c-000f-5000-9000-1b68e7b15f3f")
    assert error.value.code == "not_found"


def test_find_payment_pages_through_the_list(shop, yookassa, yookassa_control):
    wanted = yookassa.create_payment(REQUEST, idempotence_key="wanted")
    for i in range(4):  # newer payments push the wanted one to the third page of two
        other = PaymentRequest(100, "RUB", "other", REQUEST.return_url, {"billy_payment_id": f"other-{i}"})
        yookassa.create_payment(other, idempotence_key=f"other-{i}")
    small_pages = YooKassaClient(shop, connect_timeout=1.0, timeout=1.0, page_size=2)
    found = small_pages.find_payment(
        metadata_key="billy_payment_id", metadata_value=REQUEST.metadata["billy_payment_id"], created_since=_since()
    )
    assert found.id == wanted.id
    assert len(yookassa_control.requests("list_payments")) == 3


def test_find_payment_returns_none_when_nothing_matches(yookassa):
    yookassa.create_payment(REQUEST, idempotence_key="key-1")
    assert (
        yookassa.find_payment(metadata_key="billy_payment_id", metadata_value="absent", created_since=_since()) is None
    )


def test_find_payment_includes_the_bound_and_nothing_older(yookassa):
    payment = yookassa.create_payment(REQUEST, idempotence_key="key-1")
    key, value = "billy_payment_id", REQUEST.metadata["billy_payment_id"]
    at_bound = yookassa.find_payment(metadata_key=key, metadata_value=value, created_since=payment.created_at)
    after = payment.created_at + dt.timedelta(milliseconds=1)
    assert at_bound.id == payment.id
    assert yookassa.find_payment(metadata_key=key, metadata_value=value, created_since=after) is None


def test_same_key_and_body_return_the_same_payment_and_create_one(yookassa, yookassa_control):
    first = yookassa.create_payment(REQUEST, idempotence_key="key-1")
    second = yookassa.create_payment(REQUEST, idempotence_key="key-1")
    assert second.id == first.id
    assert [p["id"] for p in yookassa_control.payments()] == [first.id]


def test_same_key_with_another_body_is_rejected(yookassa, yookassa_control):
    yookassa.create_payment(REQUEST, idempotence_key="key-1")
    other = PaymentRequest(1, "RUB", "other", REQUEST.return_url, {})
    with pytest.raises(ProviderRejected) as error:
        yookassa.create_payment(other, idempotence_key="key-1")
    assert (error.value.code, error.value.parameter) == ("invalid_request", "Idempotence-Key")
    assert len(yookassa_control.payments()) == 1


def test_key_is_forgotten_after_24_hours_of_emulator_time(yookassa, yookassa_control):
    first = yookassa.create_payment(REQUEST, idempotence_key="key-1")
    yookassa_control.advance_clock(DAY + 1)
    second = yookassa.create_payment(REQUEST, idempotence_key="key-1")
    assert second.id != first.id


def test_key_is_kept_just_under_24_hours(yookassa, yookassa_control):
    first = yookassa.create_payment(REQUEST, idempotence_key="key-1")
    yookassa_control.advance_clock(DAY - 60)
    assert yookassa.create_payment(REQUEST, idempotence_key="key-1").id == first.id


def test_retry_after_commit_then_timeout_is_byte_identical_and_finds_the_payment(yookassa, yookassa_control):
    yookassa_control.inject("commit_then_timeout", seconds=COMMIT_THEN_TIMEOUT_SECONDS, operation="create_payment")
    with pytest.raises(ProviderOutcomeUnknown):
        yookassa.create_payment(REQUEST, idempotence_key="key-1")
    payment = yookassa.create_payment(REQUEST, idempotence_key="key-1")
    first, retry = yookassa_control.requests("create_payment")
    assert (first["outcome"], retry["outcome"]) == ("ok:late", "replay")
    assert retry["body"] == first["body"]
    assert [p["id"] for p in yookassa_control.payments()] == [payment.id]


def test_500_leaves_the_outcome_unknown_and_nothing_is_created(yookassa, yookassa_control):
    yookassa_control.inject("error")
    with pytest.raises(ProviderOutcomeUnknown):
        yookassa.create_payment(REQUEST, idempotence_key="key-1")
    assert yookassa_control.payments() == []


def test_429_is_unavailable(yookassa, yookassa_control):
    yookassa_control.inject("too_many_requests")
    with pytest.raises(ProviderUnavailable):
        yookassa.create_payment(REQUEST, idempotence_key="key-1")


def test_delay_within_the_timeout_succeeds(yookassa, yookassa_control):
    yookassa_control.inject("delay", seconds=0.3)
    assert yookassa.create_payment(REQUEST, idempotence_key="key-1").status == "pending"


def test_refused_connection_is_unavailable(refused_port):
    credentials = ShopCredentials(f"http://127.0.0.1:{refused_port}/v3", SHOP_ID, "secret")
    with pytest.raises(ProviderUnavailable):
        YooKassaClient(credentials, connect_timeout=1.0, timeout=1.0).get_payment("any")


def test_invalid_amount_is_rejected_with_the_field(yookassa):
    with pytest.raises(ProviderRejected) as error:
        yookassa.create_payment(PaymentRequest(0, "RUB", "zero", REQUEST.return_url, {}), idempotence_key="key-1")
    assert (error.value.code, error.value.parameter) == ("invalid_request", "amount.value")


def test_wrong_credentials_are_rejected(shop, yookassa_control):
    no_secret = ShopCredentials(shop.api_url, SHOP_ID, "")
    with pytest.raises(ProviderRejected) as error:
        YooKassaClient(no_secret, connect_timeout=1.0, timeout=1.0).get_payment("any")
    assert error.value.code == "invalid_credentials"


def test_pending_payment_expires_after_its_ttl(yookassa, yookassa_control):
    payment = yookassa.create_payment(REQUEST, idempotence_key="key-1")
    yookassa_control.advance_clock(3601)
    fetched = yookassa.get_payment(payment.id)
    assert (fetched.status, fetched.cancellation_party, fetched.cancellation_reason) == (
        "canceled",
        "yoo_money",
        "expired_on_confirmation",
    )


def test_refund_succeeds_at_once(yookassa, yookassa_control):
    payment = _paid(yookassa, yookassa_control)
    refund = yookassa.create_refund(RefundRequest(payment.id, 50000, "RUB", "partial refund"), idempotence_key="r-1")
    assert (refund.status, refund.payment_id, refund.amount, refund.currency) == ("succeeded", payment.id, 50000, "RUB")


def test_get_refund_and_find_refunds(yookassa, yookassa_control):
    payment = _paid(yookassa, yookassa_control)
    first = yookassa.create_refund(RefundRequest(payment.id, 100, "RUB", "one"), idempotence_key="r-1")
    second = yookassa.create_refund(RefundRequest(payment.id, 200, "RUB", "two"), idempotence_key="r-2")
    assert yookassa.get_refund(first.id) == first
    assert [r.id for r in yookassa.find_refunds(payment_id=payment.id)] == [second.id, first.id]


def test_refund_of_more_than_is_left_is_rejected(yookassa, yookassa_control):
    payment = _paid(yookassa, yookassa_control)
    yookassa.create_refund(RefundRequest(payment.id, 100000, "RUB", "most"), idempotence_key="r-1")
    with pytest.raises(ProviderRejected) as error:
        yookassa.create_refund(RefundRequest(payment.id, 23451, "RUB", "one kopeck too many"), idempotence_key="r-2")
    assert error.value.parameter == "amount.value"


def test_refund_same_key_returns_the_same_refund(yookassa, yookassa_control):
    payment = _paid(yookassa, yookassa_control)
    request = RefundRequest(payment.id, 100, "RUB", "one")
    assert yookassa.create_refund(request, idempotence_key="r-1").id == (
        yookassa.create_refund(request, idempotence_key="r-1").id
    )
    assert len(yookassa_control.refunds()) == 1


def test_refund_cancel_fault_ends_the_refund_canceled(yookassa, yookassa_control):
    payment = _paid(yookassa, yookassa_control)
    yookassa_control.inject("refund_cancel")
    refund = yookassa.create_refund(RefundRequest(payment.id, 100, "RUB", "one"), idempotence_key="r-1")
    assert (refund.status, refund.cancellation_party, refund.cancellation_reason) == (
        "canceled",
        "yoo_money",
        "rejected_by_payee",
    )


def test_refund_pending_fault_settles_later(yookassa, yookassa_control):
    payment = _paid(yookassa, yookassa_control)
    yookassa_control.inject("refund_pending", seconds=0.3)
    refund = yookassa.create_refund(RefundRequest(payment.id, 100, "RUB", "one"), idempotence_key="r-1")
    assert refund.status == "pending"
    assert wait_for(lambda: yookassa.get_refund(refund.id).status == "succeeded")


def test_notification_from_the_emulator_parses(yookassa, yookassa_control, webhook_receiver):
    payment = _paid(yookassa, yookassa_control)
    (body,) = wait_for(webhook_receiver.received)
    assert parse_notification(json.dumps(body).encode()) == Notification("payment.succeeded", payment.id)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"type": "error", "event": "payment.succeeded", "object": {"id": "p"}}',
        b'{"type": "notification", "event": "deal.closed", "object": {"id": "p"}}',
        b'{"type": "notification", "event": "payment.succeeded", "object": {}}',
        b'{"type": "notification", "event": "payment.succeeded"}',
    ],
)
def test_parse_notification_refuses_anything_else(body):
    with pytest.raises(ValueError, match="notification"):
        parse_notification(body)


def test_get_payment_provider_uses_the_timeouts_from_settings(shop, settings):
    settings.YOOKASSA_CONNECT_TIMEOUT = 0.5
    settings.YOOKASSA_TIMEOUT = 7.0
    provider = get_payment_provider(shop)
    assert (provider.credentials, provider.connect_timeout, provider.timeout) == (shop, 0.5, 7.0)
