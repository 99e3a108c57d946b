"""One Idempotency-Key, many calls at once, over real sockets: every call gets the key's first answer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from billy.core import clock
from billy.idempotency.models import IdempotencyKey
from billy.subscriptions.models import Subscription, SubscriptionRefund
from billy.subscriptions.payments import recheck_payment
from tests.conftest import billy_server, wait_http

pytestmark = pytest.mark.slow

CALLS = 16
BODY = {"plan": "monthly", "return_url": "https://cinema.example/back"}


@pytest.fixture
def api(cinema, cinema_key, auth_emulator, notifications_emulator, tmp_path):
    """`billy serve` (2 processes, 8 threads each) on the test database, and a client for it."""
    env = {"AUTH_API_URL": auth_emulator.base_url, "NOTIFICATIONS_URL": notifications_emulator.base_url}
    with (tmp_path / "serve.log").open("w") as log:
        server, port = billy_server(
            "serve", "--workers", "2", "--threads", "8", env=env, stdout=log, stderr=log, port_file=tmp_path / "port"
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health", server)
        yield f"{base}/api/v1/workspaces/cinema", {"Authorization": f"Bearer {cinema_key}"}
    finally:
        server.terminate()
        server.wait(timeout=30)


def all_at_once(call) -> list[httpx.Response]:
    """`call(client)` from CALLS threads released together by a barrier, each on its own connection."""
    barrier = threading.Barrier(CALLS)

    def one(_):
        with httpx.Client(timeout=60) as client:
            barrier.wait(timeout=60)
            return call(client)

    with ThreadPoolExecutor(CALLS) as pool:
        return list(pool.map(one, range(CALLS)))


def test_concurrent_subscribes_with_one_key_all_get_the_first_answer(api, yookassa):
    base, headers = api
    headers = {**headers, "Idempotency-Key": "one-key"}

    answers = all_at_once(lambda http: http.post(f"{base}/users/user-1/subscriptions", json=BODY, headers=headers))
    later = httpx.post(f"{base}/users/user-1/subscriptions", json=BODY, headers=headers, timeout=60)

    assert [a.status_code for a in answers] == [201] * CALLS, [a.text for a in answers if a.status_code != 201]
    assert all(a.json() == answers[0].json() for a in answers)
    assert (later.status_code, later.json()) == (201, answers[0].json())
    assert Subscription.objects.count() == 1
    assert len(yookassa.requests(operation="create_payment")) == 1
    assert IdempotencyKey.objects.get().response_status == 201


def test_concurrent_refunds_with_one_key_all_get_the_first_answer(api, yookassa):
    base, headers = api
    created = httpx.post(
        f"{base}/users/user-1/subscriptions", json=BODY, headers={**headers, "Idempotency-Key": "s"}, timeout=60
    ).json()
    yookassa.pay(created["payment"]["provider_payment_id"])
    recheck_payment(payment_id=created["payment"]["payment_id"], now=clock.now())
    headers = {**headers, "Idempotency-Key": "one-refund-key"}
    url = f"{base}/subscriptions/{created['id']}/refund"

    answers = all_at_once(lambda http: http.post(url, json={"reason": "r"}, headers=headers))
    later = httpx.post(url, json={"reason": "r"}, headers=headers, timeout=60)

    assert [a.status_code for a in answers] == [202] * CALLS, [a.text for a in answers if a.status_code != 202]
    assert all(a.json() == answers[0].json() for a in answers)
    assert (later.status_code, later.json()) == (202, answers[0].json())
    assert SubscriptionRefund.objects.count() == 1
