"""The whole flow over real sockets: `billy serve`, `billy worker`, the three emulators, PostgreSQL.

subscribe → pay on the hosted page → webhook → active, role granted, user notified → refund →
role revoked, user notified, the refund at the provider. And a worker killed with SIGKILL between
the provider's answer and billy's commit.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
import uuid

import httpx
import psycopg
import pytest
from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Now
from procrastinate.contrib.django.models import ProcrastinateJob

from billy.core import clock
from billy.subscriptions.janitor import recheck_open_payments
from billy.subscriptions.models import ProviderNotification, Subscription, SubscriptionPayment
from tests.conftest import database_url_for_children

pytestmark = pytest.mark.slow


def _wait_for(read, predicate, timeout: float = 120):
    """`read()` until `predicate` holds of its value, or `timeout` seconds (only a failure waits that
    long: room for a busy machine); the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if predicate(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _due_jobs() -> int:
    """Jobs the worker has yet to run, or is running (retries scheduled for later not counted)."""
    due = Q(scheduled_at__isnull=True) | Q(scheduled_at__lte=Now())
    return ProcrastinateJob.objects.filter(due, status__in=["todo", "doing"]).count()


def test_subscribe_pay_refund_end_to_end(stack, yookassa, auth, notifications):
    api = stack.api
    answer = api.post(
        "/users/user-1/subscriptions",
        json={"plan": "monthly", "return_url": "https://cinema.example/back"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 201, answer.text
    subscription = answer.json()
    assert (subscription["status"], subscription["payment"]["status"]) == ("PENDING", "PENDING")
    page = httpx.get(subscription["payment"]["confirmation_url"])
    assert page.status_code == 200 and 'id="pay"' in page.text

    assert yookassa.pay(subscription["payment"]["provider_payment_id"]) == "succeeded"
    active = _wait_for(
        lambda: api.get(f"/subscriptions/{subscription['id']}").json(), lambda s: s["status"] == "ACTIVE"
    )
    assert active["status"] == "ACTIVE"
    assert _wait_for(lambda: auth.roles("cinema", "user-1"), bool) == ["subscriber"]
    sent = _wait_for(lambda: notifications.notifications(user_id="user-1"), bool)
    assert [n["template"] for n in sent] == ["subscription_activated"]

    refund = api.post(
        f"/subscriptions/{subscription['id']}/refund",
        json={"reason": "changed my mind"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert refund.status_code == 202, refund.text
    assert (refund.json()["status"], refund.json()["amount"]) == ("PENDING", "299.00")
    refunded = _wait_for(
        lambda: api.get(f"/subscriptions/{subscription['id']}").json(), lambda s: s["status"] == "REFUNDED"
    )
    assert refunded["refunds"][0]["status"] == "SUCCEEDED"
    assert _wait_for(lambda: auth.roles("cinema", "user-1"), lambda r: r == []) == []
    sent = _wait_for(lambda: notifications.notifications(user_id="user-1"), lambda n: len(n) == 2)
    assert [n["template"] for n in sent] == ["subscription_activated", "subscription_refunded"]
    assert [(r["status"], r["amount"]["value"]) for r in yookassa.refunds()] == [("succeeded", "299.00")]


def test_worker_killed_between_the_provider_answer_and_the_commit(stack, yookassa, auth, notifications):
    yookassa.inject("error", operation="create_payment")  # the API's own attempt fails: the job makes the call
    answer = stack.api.post(
        "/users/user-2/subscriptions",
        json={"plan": "monthly", "return_url": "https://cinema.example/back"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 503, answer.text
    payment_id = answer.json()["error"]["details"]["payment_id"]

    # Hold the subscription row (recording the answer locks the payment with its subscription): the
    # worker gets the provider's answer, then waits before its commit.
    with psycopg.connect(database_url_for_children()) as blocker:
        blocker.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE task_name LIKE '%%submit_payment'")
        blocker.commit()
        blocker.execute(
            "SELECT 1 FROM subscription WHERE id = (SELECT subscription_id FROM subscription_payment WHERE id = %s) "
            "FOR UPDATE",
            [payment_id],
        )
        answered = _wait_for(lambda: yookassa.requests(operation="create_payment"), lambda r: len(r) == 2)
        assert [r["status"] for r in answered] == [500, 200]
        with psycopg.connect(database_url_for_children(), autocommit=True) as watcher:
            waiting = "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))"
            blocked = _wait_for(lambda: watcher.execute(waiting, [blocker.info.backend_pid]).fetchone()[0], bool)
        assert blocked == 1  # the worker waits for the row, the provider's answer in hand
        os.kill(stack.worker.pid, signal.SIGKILL)
        stack.worker.wait(timeout=10)
        blocker.rollback()
    assert SubscriptionPayment.objects.get(pk=payment_id).status == SubscriptionPayment.Status.NEW

    # The janitor re-reads the payment (same key, same body: the provider gives the same payment);
    # a new worker does the rest.
    stack.start_worker()
    later = clock.now() + dt.timedelta(seconds=settings.BILLY_PAYMENT_RECHECK_SECONDS + 1)
    assert recheck_open_payments(now=later) == 1
    payment = SubscriptionPayment.objects.get(pk=payment_id)
    assert payment.status == SubscriptionPayment.Status.PENDING
    assert yookassa.pay(payment.provider_payment_id) == "succeeded"
    assert _wait_for(lambda: auth.roles("cinema", "user-2"), bool) == ["subscriber"]
    _wait_for(lambda: notifications.notifications(user_id="user-2"), bool)

    assert [p["status"] for p in yookassa.payments()] == ["succeeded"]
    assert [e["op"] for e in auth.effects()] == ["grant"]
    assert [n["template"] for n in notifications.notifications(user_id="user-2")] == ["subscription_activated"]
    assert SubscriptionPayment.objects.get(pk=payment_id).status == SubscriptionPayment.Status.SUCCEEDED


def _subscribe(stack, user_id: str, key: str | None = None) -> httpx.Response:
    return stack.api.post(
        f"/users/{user_id}/subscriptions",
        json={"plan": "monthly", "return_url": "https://cinema.example/back"},
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
    )


def _assert_exactly_once(yookassa, auth, notifications, user_id: str) -> None:
    """One charge at the provider, one activation, one grant, one notification."""
    assert [p["status"] for p in yookassa.payments()] == ["succeeded"]
    assert SubscriptionPayment.objects.filter(status="SUCCEEDED").count() == 1
    assert Subscription.objects.filter(user_id=user_id, status="ACTIVE").count() == 1
    assert [(e["op"], e["user_id"]) for e in auth.effects()] == [("grant", user_id)]
    assert [n["template"] for n in notifications.notifications()] == ["subscription_activated"]


def test_lost_webhook_is_completed_by_the_janitor(stack, yookassa, auth, notifications):
    created = _subscribe(stack, "user-3").json()
    yookassa.inject("lose_webhook")

    assert yookassa.pay(created["payment"]["provider_payment_id"]) == "succeeded"
    assert [d["outcome"] for d in yookassa.deliveries()] == ["lost"]  # billy is never told
    assert stack.api.get(f"/subscriptions/{created['id']}").json()["status"] == "PENDING"
    later = clock.now() + dt.timedelta(seconds=settings.BILLY_PAYMENT_RECHECK_SECONDS + 1)
    assert recheck_open_payments(now=later) == 1

    _wait_for(notifications.notifications, bool)
    _wait_for(auth.effects, bool)
    _assert_exactly_once(yookassa, auth, notifications, "user-3")


def test_webhook_delivered_five_times_activates_once(stack, yookassa, auth, notifications):
    created = _subscribe(stack, "user-4").json()
    yookassa.inject("repeat_webhook", times=5)

    assert yookassa.pay(created["payment"]["provider_payment_id"]) == "succeeded"
    deliveries = _wait_for(
        lambda: [d for d in yookassa.deliveries() if d["status"] == 200],
        lambda d: len(d) >= 5,
    )
    _wait_for(notifications.notifications, bool)
    assert _wait_for(_due_jobs, lambda due: due == 0) == 0  # any extra processing has happened

    assert len(deliveries) == 5
    assert ProviderNotification.objects.get(event="payment.succeeded").deliveries == 5
    _assert_exactly_once(yookassa, auth, notifications, "user-4")


def test_two_concurrent_subscribe_calls_with_different_keys(stack, yookassa, auth, notifications):
    barrier = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def call() -> None:
        barrier.wait()
        answers.append(_subscribe(stack, "user-5"))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(a.status_code for a in answers) == [200, 201]
    assert len({a.json()["payment"]["payment_id"] for a in answers}) == 1
    assert yookassa.pay(answers[0].json()["payment"]["provider_payment_id"]) == "succeeded"
    _wait_for(notifications.notifications, bool)
    _wait_for(auth.effects, bool)
    _assert_exactly_once(yookassa, auth, notifications, "user-5")


def test_auth_api_down_for_a_while(stack, yookassa, auth, notifications):
    created = _subscribe(stack, "user-6").json()
    auth.inject("down", seconds=600)

    assert yookassa.pay(created["payment"]["provider_payment_id"]) == "succeeded"
    _wait_for(auth.requests, lambda requests: any(r["outcome"] == "down" for r in requests))
    auth.clear_faults()  # back up: the worker's next retry (backoff 2 s, 4 s, ...) grants the role
    roles = _wait_for(lambda: auth.roles("cinema", "user-6"), bool)
    _wait_for(notifications.notifications, bool)

    assert roles == ["subscriber"]
    assert any(r["outcome"] == "down" for r in auth.requests())
    _assert_exactly_once(yookassa, auth, notifications, "user-6")
