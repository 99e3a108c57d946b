"""Delivery to a real receiver on a loopback socket, driven step by step with pinned time."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest

from billy.charges import operations as charge_operations
from billy.core.pagination import encode_cursor
from billy.webhooks import delivery
from billy.webhooks.delivery import DELIVERED, GIVEN_UP, IDLE, RETRYING, WAITING, deliver_next, replay_delivery
from billy.webhooks.endpoints import create_endpoint, rotate_secret, update_endpoint
from billy.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.charges.conftest import fund, make_client
from tests.conftest import NOW, make_api_key, read_feed_until, wait_for
from tests.webhooks.conftest import readme_verifier

verify = readme_verifier()


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def timestamp(self) -> float:
        return self.now.timestamp()


def charge(client, charge_id: str, now: dt.datetime, amount: int = 1_00):
    request = charge_operations.ChargeRequest(charge_id=charge_id, product="placement", amount=amount)
    return charge_operations.post_charge(client=client, request=request, now=now)[0]


def deliver_until(endpoint_id: int, clock: Clock, done) -> None:
    """Run the endpoint's delivery steps as its job would, moving the pinned clock to each retry,
    until `done()`: an event committed a moment ago may still be held back from the feed by another
    transaction of the cluster, so this polls."""

    def progress():
        while True:
            step = deliver_next(endpoint_id=endpoint_id, now=clock.now)
            if step.outcome in (RETRYING, WAITING):
                clock.now = max(clock.now, step.next_attempt_at)
            elif step.outcome == IDLE:
                return done()

    wait_for(progress)


def feed_ids(workspace, endpoint, count: int) -> list[str]:
    events, _ = read_feed_until(
        workspace.pk, after=encode_cursor(endpoint.after_xid, endpoint.after_event_id), count=count
    )
    return [str(e.id) for e in events]


def signatures(request) -> list[str]:
    return [part.split("=", 1)[1] for part in request.signature.split(",") if part.startswith("v1=")]


def test_receiver_sees_every_event_once_in_feed_order_across_failures_rotation_and_replay(workspace, receiver):
    clock = Clock(NOW)
    client = make_client(workspace)
    made = create_endpoint(workspace=workspace, url=receiver.url, event_types=[], enabled=True, now=clock.now)
    endpoint, old_secret = made.endpoint, made.secret
    receiver.fail_first, receiver.secrets, receiver.now = 3, [old_secret], clock.timestamp
    fund(client, 100_00)
    for i in range(4):
        charge(client, f"ch-a{i}", clock.now)

    deliver_until(endpoint.pk, clock, lambda: len(receiver.seen_once()) == 5)

    before_rotation = list(receiver.requests)
    assert [r.answered for r in before_rotation[:3]] == [500, 500, 500]
    assert all(verify(r.signature, r.body, old_secret, now=clock.now.timestamp()) for r in before_rotation)
    tries = list(WebhookAttempt.objects.filter(delivery__endpoint=endpoint).order_by("id")[:4])
    waits = [(b.started_at - a.finished_at).total_seconds() for a, b in itertools.pairwise(tries)]
    assert waits == [5, 10, 20], "retried after 5, 10 and 20 s"

    rotated = rotate_secret(workspace=workspace, endpoint_id=endpoint.pk, overlap_seconds=3600, now=clock.now)
    new_secret = rotated.secret
    receiver.secrets = [new_secret]  # the receiver switches to the new secret at once
    for i in range(3):
        charge(client, f"ch-b{i}", clock.now)
    deliver_until(endpoint.pk, clock, lambda: len(receiver.seen_once()) == 8)

    during_overlap = receiver.requests[len(before_rotation) :]
    assert [len(signatures(r)) for r in during_overlap] == [2, 2, 2]
    for secret in (new_secret, old_secret):
        assert all(verify(r.signature, r.body, secret, now=clock.now.timestamp()) for r in during_overlap)

    clock.now = rotated.previous_secret_expires_at + dt.timedelta(seconds=1)
    for i in range(2):
        charge(client, f"ch-c{i}", clock.now)
    deliver_until(endpoint.pk, clock, lambda: len(receiver.seen_once()) == 10)

    after_overlap = receiver.requests[len(before_rotation) + len(during_overlap) :]
    assert [len(signatures(r)) for r in after_overlap] == [1, 1]
    assert all(verify(r.signature, r.body, new_secret, now=clock.now.timestamp()) for r in after_overlap)
    assert not any(verify(r.signature, r.body, old_secret, now=clock.now.timestamp()) for r in after_overlap)

    replayed = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id")[1]
    replay_delivery(workspace=workspace, endpoint_id=endpoint.pk, delivery_id=replayed.pk, now=clock.now)
    attempt = WebhookAttempt.objects.get(delivery=replayed, replay=True)
    assert delivery.send_replay(attempt_id=attempt.pk, now=clock.now).outcome == DELIVERED
    assert delivery.send_replay(attempt_id=attempt.pk, now=clock.now) is None, (
        "a replay job that runs again sends nothing"
    )

    assert [r.answered for r in receiver.requests].count(400) == 0, "every request verified"
    accepted = receiver.accepted()
    assert accepted[-1].event_id == str(replayed.event_id)
    assert verify(accepted[-1].signature, accepted[-1].body, new_secret, now=clock.now.timestamp())
    assert len(accepted) == 11
    assert receiver.seen_once() == feed_ids(workspace, endpoint, 10)
    assert all(r.event_type for r in receiver.requests)


def test_a_delivery_body_is_the_feeds_item(workspace, receiver, client):
    service_key = make_api_key("c2b")

    made = create_endpoint(workspace=workspace, url=receiver.url, event_types=[], enabled=True, now=NOW)
    fund(make_client(workspace), 5_00)
    deliver_until(made.endpoint.pk, Clock(NOW), lambda: len(receiver.accepted()) == 1)

    page = client.get("/api/v1/workspaces/c2b/events", HTTP_AUTHORIZATION=f"Bearer {service_key}").json()
    item = next(e for e in page["events"] if str(e["id"]) == receiver.accepted()[0].event_id)
    assert json.loads(receiver.accepted()[0].body) == item
    assert receiver.accepted()[0].event_type == item["type"] == "wallet.adjusted"


def test_a_delivery_that_keeps_failing_is_given_up_after_the_window_and_the_endpoint_moves_on(
    workspace, receiver, settings
):
    receiver.fail_first = 10**6
    client = make_client(workspace)
    made = create_endpoint(
        workspace=workspace, url=receiver.url, event_types=["charge.completed"], enabled=True, now=NOW
    )
    fund(client, 10_00)
    charge(client, "ch-1", NOW)
    charge(client, "ch-2", NOW)
    clock = Clock(NOW)
    first = wait_for(lambda: deliver_next(endpoint_id=made.endpoint.pk, now=clock.now).outcome == RETRYING)
    assert first

    window = dt.timedelta(seconds=settings.BILLY_WEBHOOK_RETRY_WINDOW_SECONDS)
    clock.now = NOW + window - dt.timedelta(seconds=1)
    last_retry = deliver_next(endpoint_id=made.endpoint.pk, now=clock.now)
    assert last_retry.outcome == RETRYING
    assert last_retry.next_attempt_at > NOW + window
    clock.now = last_retry.next_attempt_at
    assert deliver_next(endpoint_id=made.endpoint.pk, now=clock.now).outcome == GIVEN_UP
    step = deliver_next(endpoint_id=made.endpoint.pk, now=clock.now)

    given_up, current = WebhookDelivery.objects.filter(endpoint=made.endpoint).order_by("id")
    assert (given_up.status, given_up.attempt_count, given_up.finished_at is not None) == ("GIVEN_UP", 3, True)
    assert [a.status_code for a in given_up.attempts.order_by("id")] == [500, 500, 500]
    assert (step.outcome, current.status, current.event.data["charge_id"]) == (RETRYING, "PENDING", "ch-2")
    assert given_up.event.data["charge_id"] == "ch-1"

    receiver.fail_first = 0
    replay_delivery(workspace=workspace, endpoint_id=made.endpoint.pk, delivery_id=given_up.pk, now=clock.now)
    attempt = WebhookAttempt.objects.get(delivery=given_up, replay=True)
    delivery.send_replay(attempt_id=attempt.pk, now=clock.now)
    given_up.refresh_from_db()
    assert given_up.status == "DELIVERED"
    assert receiver.accepted()[-1].event_id == str(given_up.event_id)


def test_retry_waits_double_from_the_first_and_stop_at_the_cap(settings):
    settings.BILLY_WEBHOOK_RETRY_FIRST_SECONDS = 5
    settings.BILLY_WEBHOOK_RETRY_MAX_SECONDS = 3600

    waits = [delivery.retry_delay(n).total_seconds() for n in range(1, 14)]

    assert waits == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600, 3600]


def test_an_endpoint_gets_only_the_event_types_it_wants(workspace, receiver):
    client = make_client(workspace)
    made = create_endpoint(
        workspace=workspace, url=receiver.url, event_types=["charge.completed"], enabled=True, now=NOW
    )
    fund(client, 10_00)
    charge(client, "ch-1", NOW)

    deliver_until(made.endpoint.pk, Clock(NOW), lambda: len(receiver.accepted()) == 1)

    assert [r.event_type for r in receiver.requests] == ["charge.completed"]


def test_a_disabled_endpoint_gets_nothing_and_resumes_where_it_stopped(workspace, receiver):
    client = make_client(workspace)
    made = create_endpoint(workspace=workspace, url=receiver.url, event_types=[], enabled=False, now=NOW)
    fund(client, 10_00)
    read_feed_until(workspace.pk, after=None, count=1)
    assert deliver_next(endpoint_id=made.endpoint.pk, now=NOW).outcome == IDLE
    assert receiver.requests == []

    update_endpoint(workspace=workspace, endpoint_id=made.endpoint.pk, enabled=True, now=NOW)
    deliver_until(made.endpoint.pk, Clock(NOW), lambda: len(receiver.accepted()) == 1)

    assert receiver.accepted()[0].event_type == "wallet.adjusted"


def test_an_endpoint_gets_no_event_written_before_it_was_made(workspace, receiver):
    client = make_client(workspace)
    fund(client, 10_00)
    read_feed_until(workspace.pk, after=None, count=1)
    made = create_endpoint(workspace=workspace, url=receiver.url, event_types=[], enabled=True, now=NOW)
    charge(client, "ch-1", NOW)

    deliver_until(made.endpoint.pk, Clock(NOW), lambda: len(receiver.accepted()) == 1)

    assert [r.event_type for r in receiver.requests] == ["charge.completed"]


def test_an_attempt_cut_short_by_a_dead_worker_is_logged_and_the_event_sent_again(workspace, receiver):
    client = make_client(workspace)
    made = create_endpoint(workspace=workspace, url=receiver.url, event_types=[], enabled=True, now=NOW)
    fund(client, 10_00)
    pending = wait_for(lambda: delivery._current_delivery(endpoint_id=made.endpoint.pk, now=NOW))
    # What a worker killed during the call leaves: the attempt written, no outcome.
    delivery._start_attempt(delivery_id=pending.pk, now=NOW)

    assert deliver_next(endpoint_id=made.endpoint.pk, now=NOW).outcome == DELIVERED

    cut, sent = WebhookAttempt.objects.filter(delivery=pending).order_by("id")
    assert (cut.status_code, cut.error) == (None, delivery.INTERRUPTED)
    assert sent.status_code == 200
    assert [r.event_id for r in receiver.requests] == [str(pending.event_id)]


def test_a_receiver_that_cannot_be_reached_is_an_attempt_with_an_error(workspace, refused_port):
    client = make_client(workspace)
    made = create_endpoint(
        workspace=workspace, url=f"http://127.0.0.1:{refused_port}/hooks", event_types=[], enabled=True, now=NOW
    )
    fund(client, 10_00)

    wait_for(lambda: deliver_next(endpoint_id=made.endpoint.pk, now=NOW).outcome == RETRYING)

    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert "ConnectError" in attempt.error
    assert attempt.latency_ms is not None


@pytest.mark.parametrize("status", [301, 404, 429])
def test_only_a_2xx_is_a_delivery(workspace, status):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(status)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        made = create_endpoint(
            workspace=workspace,
            url=f"http://127.0.0.1:{server.server_address[1]}/",
            event_types=[],
            enabled=True,
            now=NOW,
        )
        fund(make_client(workspace), 10_00)
        wait_for(lambda: deliver_next(endpoint_id=made.endpoint.pk, now=NOW).outcome == RETRYING)
    finally:
        server.shutdown()
        server.server_close()

    assert WebhookAttempt.objects.get().status_code == status
    assert WebhookDelivery.objects.get().status == "PENDING"
