"""Through the real `billy worker`: the dispatcher, the delivery job and its retries deliver the
feed in order; a worker killed during a delivery loses nothing (the event is sent again)."""

from __future__ import annotations

import subprocess

from django.db import connection

from billy.webhooks.delivery import INTERRUPTED
from billy.webhooks.endpoints import create_endpoint
from billy.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.charges.conftest import fund, make_client
from tests.conftest import NOW, billy_process, wait_for
from tests.core.test_stalled_jobs import run_janitor
from tests.webhooks.test_delivery import charge, feed_ids

# Retries a tenth of a second apart: the worker picks a scheduled job up within its polling interval.
WORKER_ENV = {"BILLY_WEBHOOK_RETRY_FIRST_SECONDS": "0.1", "BILLY_LOG_LEVEL": "WARNING"}


def start_worker() -> subprocess.Popen:
    return billy_process("worker", "--queues", "webhooks", env=WORKER_ENV, stdout=subprocess.DEVNULL)


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        worker.wait(timeout=60)


def test_the_worker_delivers_every_event_in_feed_order_through_failures(workspace, receiver):
    made = create_endpoint(workspace=workspace, url=receiver.url, event_types=[], enabled=True, now=NOW)
    receiver.fail_first = 2
    client = make_client(workspace)
    fund(client, 100_00)
    for i in range(4):
        charge(client, f"ch-{i}", NOW)
    expected = feed_ids(workspace, made.endpoint, 5)

    worker = start_worker()
    try:
        wait_for(lambda: receiver.seen_once() == expected, timeout=120)
    finally:
        stop(worker)

    assert [r.answered for r in receiver.requests] == [500, 500, 200, 200, 200, 200, 200]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"DELIVERED"}


def test_a_worker_killed_during_a_delivery_loses_nothing(workspace, receiver):
    made = create_endpoint(workspace=workspace, url=receiver.url, event_types=[], enabled=True, now=NOW)
    client = make_client(workspace)
    fund(client, 100_00)
    charge(client, "ch-1", NOW)
    expected = feed_ids(workspace, made.endpoint, 2)
    receiver.hold.clear()  # the first request waits for an answer that the worker will not live to read

    worker = start_worker()
    try:
        wait_for(receiver.holding.is_set, timeout=120)
        worker.kill()
        worker.wait()
    finally:
        stop(worker)
    receiver.hold.set()
    with connection.cursor() as cursor:  # as if its heartbeat stopped long ago
        cursor.execute("UPDATE procrastinate_workers SET last_heartbeat = NOW() - INTERVAL '1 hour'")
    assert run_janitor() >= 1

    worker = start_worker()
    try:
        wait_for(lambda: len(receiver.accepted()) >= 3 and receiver.seen_once() == expected, timeout=120)
    finally:
        stop(worker)

    first = WebhookDelivery.objects.order_by("id").first()
    attempts = list(WebhookAttempt.objects.filter(delivery=first).order_by("id"))
    assert [(a.status_code, a.error) for a in attempts] == [(None, INTERRUPTED), (200, "")]
    assert [r.event_id for r in receiver.accepted()][:2] == [expected[0], expected[0]], "sent again, deduped by id"
