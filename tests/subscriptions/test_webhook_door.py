"""Junk refused at the door: a provider notification about no payment or refund of billy's is counted
and nothing else (no job, no provider call); a workspace without a shop is 404; past the per-source
limit, junk is 429 with Retry-After while billy's own notifications still pass."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection

from billy.subscriptions.models import IgnoredNotification, ProviderNotification
from billy.workspaces import operations as workspace_operations
from tests.conftest import make_workspace

from .test_subscriptions import subscribe_and_submit

WEBHOOK = "/api/v1/workspaces/{workspace}/providers/yookassa/webhook"


def _notification(event: str, object_id: str) -> bytes:
    return json.dumps({"type": "notification", "event": event, "object": {"id": object_id}}).encode()


def _webhook(client, body: bytes, workspace: str = "cinema"):
    return client.post(WEBHOOK.format(workspace=workspace), data=body, content_type="application/json")


def _jobs() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs")
        return cursor.fetchone()[0]


@pytest.fixture
def door(cinema, settings):
    """A fresh window of the per-source limit, and a limit no test here reaches unless it sets one."""
    caches["rate_limit"].clear()
    settings.BILLY_WEBHOOK_IGNORED_RATE = "1000/d"
    yield
    caches["rate_limit"].clear()


def test_notifications_about_no_object_of_billys_are_counted_only(door, cinema, yookassa, client):
    jobs = _jobs()
    junk = [str(uuid.uuid4()) for _ in range(3)]

    answers = [_webhook(client, _notification("payment.succeeded", object_id)) for object_id in junk]
    answers.append(_webhook(client, _notification("refund.succeeded", "refund-nobody-made")))

    assert [(a.status_code, a.json()["status"]) for a in answers] == [(200, "ignored")] * 4
    assert _jobs() == jobs
    assert yookassa.requests() == []
    assert ProviderNotification.objects.count() == 0
    rows = {r.event: r for r in IgnoredNotification.objects.all()}
    assert {event: row.count for event, row in rows.items()} == {"payment.succeeded": 3, "refund.succeeded": 1}
    assert rows["payment.succeeded"].last_object_ids == junk[::-1]
    assert rows["payment.succeeded"].last_remote_addr == "127.0.0.1"


def test_an_ignored_counter_keeps_the_five_latest_ids(door, cinema, client):
    junk = [f"junk-{n}" for n in range(8)]

    for object_id in junk:
        _webhook(client, _notification("payment.canceled", object_id))

    row = IgnoredNotification.objects.get()
    assert (row.count, row.last_object_ids) == (8, ["junk-7", "junk-6", "junk-5", "junk-4", "junk-3"])


def test_a_notification_about_billys_payment_is_stored_with_its_job(door, cinema, yookassa, client):
    _, payment = subscribe_and_submit(cinema)
    jobs = _jobs()

    answer = _webhook(client, _notification("payment.succeeded", payment.provider_payment_id))

    assert answer.json()["status"] == "received"
    assert ProviderNotification.objects.get().object_id == payment.provider_payment_id
    assert _jobs() == jobs + 1
    assert IgnoredNotification.objects.count() == 0


def test_another_workspaces_payment_is_junk_here(door, cinema, yookassa, client):
    _, payment = subscribe_and_submit(cinema)
    make_workspace("c2b")
    workspace_operations.configure_payment_provider(
        name="c2b", api_url=cinema.yookassa_api_url, shop_id="200600", secret_key="c2b_secret"
    )

    answer = _webhook(client, _notification("payment.succeeded", payment.provider_payment_id), workspace="c2b")

    assert answer.json()["status"] == "ignored"
    assert ProviderNotification.objects.count() == 0


@pytest.mark.parametrize("workspace", ["c2b", "nowhere"])
def test_a_workspace_without_a_provider_shop_is_404(door, cinema, client, workspace):
    make_workspace("c2b")  # no shop configured

    answer = _webhook(client, _notification("payment.succeeded", "x"), workspace=workspace)

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert IgnoredNotification.objects.count() == 0


def test_junk_past_the_per_source_limit_is_429_with_retry_after(door, cinema, yookassa, client, settings):
    settings.BILLY_WEBHOOK_IGNORED_RATE = "3/d"  # a day-long window: the test never straddles two
    _, payment = subscribe_and_submit(cinema)

    taken = [_webhook(client, _notification("payment.succeeded", f"junk-{n}")) for n in range(3)]
    refused = _webhook(client, _notification("payment.succeeded", "junk-3"))
    real = _webhook(client, _notification("payment.succeeded", payment.provider_payment_id))

    assert [a.status_code for a in taken] == [200, 200, 200]
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 86_400
    assert error["details"]["retry_after"] == int(refused["Retry-After"])
    assert IgnoredNotification.objects.get().count == 3
    assert (real.status_code, real.json()["status"]) == (200, "received")


def test_the_admin_lists_ignored_notifications(door, cinema, client):
    for object_id in ("junk-a", "junk-b"):
        _webhook(client, _notification("payment.succeeded", object_id))
    user = get_user_model().objects.create_superuser("operator", "op@example.com", "pw-operator")
    client.force_login(user)

    page = client.get("/admin/subscriptions/ignorednotification/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "payment.succeeded" in text and "junk-b, junk-a" in text
    row = IgnoredNotification.objects.get()
    assert client.get(f"/admin/subscriptions/ignorednotification/{row.pk}/change/").status_code == 200


def test_junk_from_a_source_without_an_address_is_limited_too(door, client, settings):
    settings.BILLY_WEBHOOK_IGNORED_RATE = "1/d"
    body = _notification("payment.succeeded", "junk")

    answers = [
        client.post(WEBHOOK.format(workspace="cinema"), data=body, content_type="application/json", REMOTE_ADDR="")
        for _ in range(2)
    ]

    assert [a.status_code for a in answers] == [200, 429]


def _refund_notification(object_id: str, payment_id: str) -> bytes:
    body = {"type": "notification", "event": "refund.succeeded", "object": {"id": object_id, "payment_id": payment_id}}
    return json.dumps(body).encode()


def test_a_refund_notification_before_its_id_is_recorded_passes_and_junk_about_other_payments_does_not(
    door, cinema, yookassa, client
):
    """A refund whose create call has not answered yet has no provider id: a notification about a refund
    of its payment takes the job's way; one naming another payment, or none, stays junk."""
    from billy.core import clock
    from billy.subscriptions.models import SubscriptionRefund

    subscription, payment = subscribe_and_submit(cinema)
    now = clock.now()
    SubscriptionRefund.objects.create(
        id=uuid.uuid4(),
        workspace=cinema,
        subscription=subscription,
        payment=payment,
        amount=100,
        currency="RUB",
        requested_by="test",
        created_at=now,
        updated_at=now,
    )
    jobs, calls = _jobs(), len(yookassa.requests())

    elsewhere = _webhook(client, _refund_notification("refund-x", "another-payment"))
    nowhere = _webhook(client, _notification("refund.succeeded", "refund-y"))
    ours = _webhook(client, _refund_notification("refund-z", payment.provider_payment_id))

    assert [a.json()["status"] for a in (elsewhere, nowhere, ours)] == ["ignored", "ignored", "received"]
    assert _jobs() == jobs + 1
    assert len(yookassa.requests()) == calls
