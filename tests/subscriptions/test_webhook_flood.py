"""A flood of junk notifications over real sockets to `billy serve`, with `billy worker` running: no
provider call, no job, every one answered and counted; a real payment paid during the flood
activates while the flood goes on, before half of the junk that follows it is answered."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid

import httpx
import pytest
from django.core.cache import caches
from procrastinate.contrib.django.models import ProcrastinateJob

from billy.subscriptions.models import IgnoredNotification, ProviderNotification, Subscription

pytestmark = pytest.mark.slow

JUNK = 1200
THREADS = 6
# Junk per source address per hour: a flood this size meets the limit, and what is refused is
# answered 429 (the ignored count plus the refusals must be the whole flood).
LIMIT = "600/d"  # a day-long window: the flood never straddles two
# From the payer's payment to an ACTIVE subscription, webhook and worker included, as a share of the
# junk answered after the payment: the subscription is active before this share of it was
# answered. The flood and the activation share the machine, so a busy machine slows both alike
# (a ratio, not a time); junk that made jobs or provider calls ahead of the real one would leave
# the payment waiting until the flood was over.
ACTIVATED_WITHIN_SHARE = 0.5


@pytest.fixture
def stack_env():
    return {"BILLY_WEBHOOK_IGNORED_RATE": LIMIT}


def _poll(condition, timeout: float):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)
    return result


def test_junk_flood_makes_no_job_and_no_provider_call_and_starves_no_payment(stack, yookassa):
    caches["rate_limit"].clear()
    subscribed = stack.api.post(
        "/users/user-1/subscriptions",
        json={"plan": "monthly", "return_url": "https://cinema.example/back"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert subscribed.status_code == 201, subscribed.text
    subscription_id = subscribed.json()["id"]
    provider_payment_id = subscribed.json()["payment"]["provider_payment_id"]
    provider_calls = len(yookassa.requests())
    last_job = ProcrastinateJob.objects.order_by("-id").values_list("id", flat=True).first() or 0

    webhook = str(stack.api.base_url).rstrip("/") + "/providers/yookassa/webhook"
    answers: list[tuple[int, str, str | None, dt.datetime]] = []
    lock = threading.Lock()

    def flood(share: int) -> None:
        with httpx.Client(timeout=60) as http:
            for _ in range(share):
                body = {"type": "notification", "event": "payment.succeeded", "object": {"id": str(uuid.uuid4())}}
                answer = http.post(webhook, content=json.dumps(body), headers={"Content-Type": "application/json"})
                outcome = answer.json().get("status") or answer.json()["error"]["code"]
                with lock:
                    answers.append(
                        (answer.status_code, outcome, answer.headers.get("Retry-After"), dt.datetime.now(dt.UTC))
                    )

    def sent() -> int:
        with lock:
            return len(answers)

    threads = [threading.Thread(target=flood, args=(JUNK // THREADS,)) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        _poll(lambda: sent() >= JUNK // 6, timeout=120)
        sent_when_paid = sent()
        paid_at = dt.datetime.now(dt.UTC)
        assert yookassa.pay(provider_payment_id) == "succeeded"
        _poll(lambda: Subscription.objects.get(pk=subscription_id).status == Subscription.Status.ACTIVE, timeout=60)
    finally:
        for thread in threads:
            thread.join(timeout=300)

    # Measured by billy's own record (the worker's clock), not by this process, which the flood's
    # threads slow down: the time from the payment to the commit that activated the subscription.
    activated_at = Subscription.objects.get(pk=subscription_id).activated_at
    activation_seconds = (activated_at - paid_at).total_seconds()
    flood_ended_at = max(at for *_, at in answers)
    after_payment = [at for *_, at in answers if at > paid_at]
    answered_before_active = sum(1 for at in after_payment if at <= activated_at)
    ignored = sum(1 for status, outcome, _, _ in answers if (status, outcome) == (200, "ignored"))
    limited = sum(1 for status, outcome, retry, _ in answers if (status, outcome) == (429, "rate_limited") and retry)
    print(
        f"\njunk: {len(answers)} sent, {ignored} ignored, {limited} refused (429); paid after {sent_when_paid}, "
        f"active {activation_seconds:.3f} s later, when {answered_before_active} of the {len(after_payment)} "
        f"sent after it were answered; the flood ended {(flood_ended_at - paid_at).total_seconds():.3f} s "
        "after the payment"
    )
    assert activated_at < flood_ended_at  # paid and activated while the flood went on
    assert answered_before_active < ACTIVATED_WITHIN_SHARE * len(after_payment)
    assert (len(answers), ignored + limited) == (JUNK, JUNK)
    assert IgnoredNotification.objects.get(event="payment.succeeded").count == ignored
    later_calls = yookassa.requests()[provider_calls:]
    assert {(r["operation"], provider_payment_id in r["path"]) for r in later_calls} == {("get_payment", True)}
    new_jobs = ProcrastinateJob.objects.filter(id__gt=last_job, task_name="billy.subscriptions.process_notification")
    assert new_jobs.count() == 1
    assert [n.object_id for n in ProviderNotification.objects.all()] == [provider_payment_id]
