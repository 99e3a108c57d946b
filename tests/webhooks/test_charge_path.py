"""Deliveries never block or slow a charge: a charge writes its event and nothing else, and a
receiver that hangs holds back neither charges nor the feed."""

from __future__ import annotations

import threading

from django.db import connection

from billy.events.queries import head_cursor
from billy.webhooks.delivery import DELIVERED, deliver_next, dispatch, endpoints_with_work
from billy.webhooks.endpoints import create_endpoint
from tests.charges.conftest import fund, make_client
from tests.conftest import NOW, read_feed_until, wait_for
from tests.webhooks.test_delivery import charge


def job_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs")
        return cursor.fetchone()[0]


def test_a_charge_defers_no_job_however_many_endpoints_want_it(workspace, receiver):
    for i in range(3):
        create_endpoint(workspace=workspace, url=f"{receiver.url}/{i}", event_types=[], enabled=True, now=NOW)
    client = make_client(workspace)
    fund(client, 100_00)
    before = job_count()

    for i in range(10):
        charge(client, f"ch-{i}", NOW)

    assert job_count() == before
    assert receiver.requests == []


def test_a_receiver_that_hangs_holds_back_neither_a_charge_nor_the_feed(workspace, receiver):
    client = make_client(workspace)
    fund(client, 100_00)
    read_feed_until(workspace.pk, after=None, count=1)
    made = create_endpoint(workspace=workspace, url=receiver.url, event_types=[], enabled=True, now=NOW)
    charge(client, "ch-1", NOW)
    receiver.hold.clear()
    outcome = []

    def deliver():
        try:
            outcome.append(wait_for(lambda: deliver_next(endpoint_id=made.endpoint.pk, now=NOW).outcome == DELIVERED))
        finally:
            connection.close()

    sender = threading.Thread(target=deliver)
    sender.start()
    try:
        wait_for(receiver.holding.is_set)
        after = head_cursor()
        charge(client, "ch-2", NOW)  # while the receiver holds the delivery of ch-1's event

        events, _ = read_feed_until(workspace.pk, after=after, count=1, timeout=30)
        assert [e.data["charge_id"] for e in events] == ["ch-2"]
        assert receiver.requests == [], "the delivery was still waiting for its answer"
    finally:
        receiver.hold.set()
        sender.join(timeout=60)
    assert outcome == [True]


def test_the_dispatcher_wakes_each_endpoint_with_work_once(workspace, receiver):
    def endpoint(enabled=True):
        return create_endpoint(workspace=workspace, url=receiver.url, event_types=[], enabled=enabled, now=NOW).endpoint

    client = make_client(workspace)
    busy, disabled = endpoint(), endpoint(enabled=False)
    fund(client, 10_00)
    read_feed_until(workspace.pk, after=None, count=1)
    fresh = endpoint()  # made after the only event: nothing for it
    wait_for(lambda: busy.pk in endpoints_with_work(now=NOW))

    assert endpoints_with_work(now=NOW) == [busy.pk]
    assert dispatch(now=NOW) == 1
    assert dispatch(now=NOW) == 0, "a job already waits for it"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args->>'endpoint_id', lock, queueing_lock FROM procrastinate_jobs "
            "WHERE task_name = 'billy.webhooks.deliver'"
        )
        jobs = cursor.fetchall()
    assert jobs == [(str(busy.pk), f"webhook-endpoint:{busy.pk}", f"webhook-endpoint:{busy.pk}")]
    assert {disabled.pk, fresh.pk}.isdisjoint(endpoints_with_work(now=NOW))
