"""The payer's and the operator's screens in a real browser: Chromium (through Playwright) against
`billy serve`, `billy worker`, the three emulators and PostgreSQL.

The payer pays, or is declined, on the provider's hosted page; an operator refunds a subscription
and retries a failed job in the admin. Chromium is Debian's `/usr/bin/chromium`, which
`scripts/bootstrap` installs.
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from playwright.sync_api import Page, expect

from billy.core.tasks import defer
from tests.browser import chromium, require_chromium

pytestmark = pytest.mark.slow

require_chromium()

PASSWORD = "operator-password-1"


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context()
    context.set_default_timeout(60_000)  # only a failure waits this long: room for a busy machine
    yield context.new_page()
    context.close()


def base_url(stack) -> str:
    return str(stack.api.base_url.join("/")).rstrip("/")


def wait_for(read, predicate, timeout: float = 120):
    """`read()` again until `predicate` holds of its value or `timeout` seconds pass (only a failure
    waits that long: room for a busy machine); the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if predicate(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def subscribe(stack, user_id: str) -> dict:
    answer = stack.api.post(
        f"/users/{user_id}/subscriptions",
        json={"plan": "monthly", "return_url": base_url(stack) + "/health"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def wait_for_status(stack, subscription_id: str, status: str) -> dict:
    return wait_for(lambda: stack.api.get(f"/subscriptions/{subscription_id}").json(), lambda s: s["status"] == status)


def active_subscription(stack, yookassa, auth, user_id: str) -> dict:
    """A subscription paid through the emulator's control API, active with its role granted."""
    subscription = subscribe(stack, user_id)
    assert yookassa.pay(subscription["payment"]["provider_payment_id"]) == "succeeded"
    assert wait_for_status(stack, subscription["id"], "ACTIVE")["status"] == "ACTIVE"
    assert wait_for(lambda: auth.roles("cinema", user_id), bool) == ["subscriber"]
    return subscription


def log_in_to_admin(page: Page, stack) -> None:
    get_user_model().objects.create_superuser("operator", "op@example.com", PASSWORD)
    page.goto(base_url(stack) + "/admin/login/?next=/admin/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("operator")


def run_action(page: Page, *, selected: str, action: str) -> None:
    """Tick the row of `selected` on the changelist shown, choose `action` and press Go."""
    page.check(f'input[name="_selected_action"][value="{selected}"]')
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def fill_card(page: Page, number: str) -> None:
    page.fill("#card-number", number)
    page.fill("#expiry", "12/30")
    page.fill("#cvc", "123")


def test_pay_on_the_hosted_page(stack, page, yookassa, auth, notifications, tmp_path):
    subscription = subscribe(stack, "user-1")
    return_url = base_url(stack) + "/health"
    page.goto(subscription["payment"]["confirmation_url"])
    page.screenshot(path=tmp_path / "payment-page.png", full_page=True)
    assert (tmp_path / "payment-page.png").stat().st_size > 0

    fill_card(page, "1234 5678 9012 3456")
    page.click("#pay")
    expect(page.locator("#error")).to_contain_text("card number is invalid")
    assert yookassa.payment(subscription["payment"]["provider_payment_id"])["status"] == "pending"
    assert stack.api.get(f"/subscriptions/{subscription['id']}").json()["status"] == "PENDING"

    fill_card(page, "5555 5555 5555 4477")
    page.click("#pay")
    page.wait_for_url(return_url)

    active = wait_for_status(stack, subscription["id"], "ACTIVE")
    assert (active["status"], active["payment"]["status"]) == ("ACTIVE", "SUCCEEDED")
    assert wait_for(lambda: auth.roles("cinema", "user-1"), bool) == ["subscriber"]
    sent = wait_for(lambda: notifications.notifications(user_id="user-1"), bool)
    assert [n["template"] for n in sent] == ["subscription_activated"]


def test_declined_on_the_hosted_page(stack, page, yookassa, auth, notifications):
    subscription = subscribe(stack, "user-2")
    page.goto(subscription["payment"]["confirmation_url"])
    fill_card(page, "4000 0000 0000 0002")
    page.click("#pay")
    page.wait_for_url(base_url(stack) + "/health")

    canceled = wait_for_status(stack, subscription["id"], "CANCELED")
    assert (canceled["status"], canceled["payment"]["status"], canceled["payment"]["failure_reason"]) == (
        "CANCELED",
        "FAILED",
        "insufficient_funds",
    )
    sent = wait_for(lambda: notifications.notifications(user_id="user-2"), bool)
    assert [n["template"] for n in sent] == ["subscription_payment_failed"]
    assert auth.effects() == []


def test_refund_from_the_admin(stack, page, yookassa, auth, notifications):
    subscription = active_subscription(stack, yookassa, auth, "user-3")
    log_in_to_admin(page, stack)
    page.goto(base_url(stack) + "/admin/subscriptions/subscription/")
    run_action(page, selected=subscription["id"], action="refund")
    page.fill("#id_reason", "changed my mind")
    page.click("input[name=apply]")
    expect(page.locator("ul.messagelist")).to_contain_text("Refund requested: 299.00 RUB")

    refunded = wait_for_status(stack, subscription["id"], "REFUNDED")
    assert [(r["status"], r["amount"], r["reason"]) for r in refunded["refunds"]] == [
        ("SUCCEEDED", "299.00", "changed my mind")
    ]
    assert wait_for(lambda: auth.roles("cinema", "user-3"), lambda roles: roles == []) == []
    sent = wait_for(lambda: notifications.notifications(user_id="user-3"), lambda n: len(n) == 2)
    assert [n["template"] for n in sent] == ["subscription_activated", "subscription_refunded"]
    assert [(r["status"], r["amount"]["value"]) for r in yookassa.refunds()] == [("succeeded", "299.00")]

    page.goto(base_url(stack) + f"/admin/subscriptions/subscription/{subscription['id']}/change/")
    refund_row = page.locator("#refunds-group tbody tr.has_original")
    expect(refund_row).to_have_count(1)
    for shown in ("succeeded", "299.00 RUB", "changed my mind", "admin operator"):
        expect(refund_row).to_contain_text(shown, ignore_case=True)


def test_retry_a_failed_job_from_the_admin(stack, page, yookassa, auth, notifications):
    subscription = active_subscription(stack, yookassa, auth, "user-4")
    key = f"activated-{subscription['id']}"
    assert [n["key"] for n in wait_for(lambda: notifications.notifications(user_id="user-4"), bool)] == [key]
    # The activation notice's job again, as if it had failed for good; in one transaction, so the
    # running worker never sees it queued.
    with transaction.atomic():
        job_id = defer(
            "billy.subscriptions.notify_user",
            subscription_id=subscription["id"],
            template="subscription_activated",
            key=key,
        )
        with connection.cursor() as cursor:
            cursor.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = %s", [job_id])

    log_in_to_admin(page, stack)
    page.goto(base_url(stack) + "/admin/core/failedjob/")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody tr")).to_contain_text("billy.subscriptions.notify_user")
    run_action(page, selected=str(job_id), action="retry")
    expect(page.locator("ul.messagelist")).to_contain_text("1 job(s) put back in their queues.")

    def job_status() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT status FROM procrastinate_jobs WHERE id = %s", [job_id])
            return cursor.fetchone()[0]

    assert wait_for(job_status, lambda status: status == "succeeded") == "succeeded"
    # The notice went out again with the same key: the service answered with the first one.
    sends = [r["outcome"] for r in notifications.requests() if r["method"] == "POST" and r["key"] == key]
    assert sends == ["applied", "replayed"]
    assert len(notifications.notifications(user_id="user-4")) == 1
