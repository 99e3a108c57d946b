"""Delivering the feed to an endpoint: one event at a time, in feed order; the attempt log; replay.

Write first, then call out: the delivery row is committed before its first POST, and each attempt
row before its call; the call itself runs outside any transaction (a transaction held open during
a slow receiver would hold back the feed's horizon for every reader). A failed attempt is retried
with backoff (BILLY_WEBHOOK_RETRY_FIRST_SECONDS doubling up to BILLY_WEBHOOK_RETRY_MAX_SECONDS) until
BILLY_WEBHOOK_RETRY_WINDOW_SECONDS after the delivery began; then it is given up and the endpoint
moves on to its next event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from procrastinate.exceptions import AlreadyEnqueued

from billy.core.errors import BillyError
from billy.core.pagination import decode_cursor, encode_cursor
from billy.core.tasks import defer
from billy.events.queries import feed_event, read_feed, visible
from billy.idempotency.operations import Answer, answer_once, claim_idempotency_key
from billy.workspaces.models import Workspace

from .endpoints import get_endpoint, is_row_id, signing_secrets
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .sending import SendResult, post_event
from .signing import signature_header

DELIVER_TASK = "billy.webhooks.deliver"
REPLAY_TASK = "billy.webhooks.send_replay"
# A step reads the feed in small pages (it needs one event; decoding a big page for it costs more than
# the call) and, past FEED_PAGE * FEED_PAGES_PER_STEP unwanted events, stops and goes on next time.
FEED_PAGE = 20
FEED_PAGES_PER_STEP = 100
INTERRUPTED = "No outcome was recorded: the call was cut short (the worker stopped during it)."

IDLE = "idle"  # nothing to send now (no new event, or the endpoint is disabled or gone)
WAITING = "waiting"  # the current delivery's next attempt is later
DELIVERED = "delivered"
RETRYING = "retrying"
GIVEN_UP = "given_up"


class WebhookDeliveryNotFound(BillyError):
    code = "webhook_delivery_not_found"
    default_message = "No delivery with this id."


@dataclass(frozen=True)
class Step:
    """What one step of an endpoint's deliveries did."""

    outcome: str
    delivery_id: int | None = None
    next_attempt_at: dt.datetime | None = None


def retry_delay(attempt_count: int) -> dt.timedelta:
    """The wait after the `attempt_count`-th failed attempt: the first delay, doubling, capped."""
    first, cap = settings.BILLY_WEBHOOK_RETRY_FIRST_SECONDS, settings.BILLY_WEBHOOK_RETRY_MAX_SECONDS
    return dt.timedelta(seconds=min(cap, first * 2 ** min(max(attempt_count - 1, 0), 32)))


def event_body(delivery: WebhookDelivery) -> bytes:
    """The POST body: the event exactly as the feed hands it out."""
    return feed_event(delivery.event).as_json()


def deliver_next(*, endpoint_id: int, now: dt.datetime) -> Step:
    """One step: take the endpoint's current delivery (or start one with the next event it wants)
    and, when its attempt is due, post it once and record the outcome. Sends at most one request."""
    delivery = _current_delivery(endpoint_id=endpoint_id, now=now)
    if delivery is None:
        return Step(IDLE)
    if delivery.next_attempt_at > now:
        return Step(WAITING, delivery.pk, delivery.next_attempt_at)
    attempt = _start_attempt(delivery_id=delivery.pk, now=now)
    if attempt is None:
        return Step(IDLE)
    return _record(attempt, _send(delivery, now), now)


def _current_delivery(*, endpoint_id: int, now: dt.datetime) -> WebhookDelivery | None:
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
        if endpoint is None or not endpoint.enabled:
            return None
        pending = WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).first()
        if pending is not None:
            return pending
        after, delivery = encode_cursor(endpoint.after_xid, endpoint.after_event_id), None
        for _ in range(FEED_PAGES_PER_STEP):
            page = read_feed(workspace_id=endpoint.workspace_id, after=after, limit=FEED_PAGE)
            for event in page.events:
                after = event.cursor
                if not endpoint.event_types or event.type in endpoint.event_types:
                    delivery = WebhookDelivery.objects.create(
                        endpoint=endpoint, event_id=event.id, next_attempt_at=now, created_at=now
                    )
                    break
            if delivery is not None or len(page.events) < FEED_PAGE:
                break
        endpoint.after_xid, endpoint.after_event_id = decode_cursor(after, int, int)
        endpoint.save(update_fields=["after_xid", "after_event_id"])
    return delivery


def _start_attempt(*, delivery_id: int, now: dt.datetime) -> WebhookAttempt | None:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:  # its endpoint was deleted meanwhile
            return None
        # An attempt still open here was never finished: its worker stopped during the call.
        WebhookAttempt.objects.filter(delivery=delivery, replay=False, finished_at__isnull=True).update(
            finished_at=now, error=INTERRUPTED
        )
        delivery.attempt_count += 1
        delivery.save(update_fields=["attempt_count"])
        return WebhookAttempt.objects.create(delivery=delivery, started_at=now)


def _send(delivery: WebhookDelivery, now: dt.datetime) -> SendResult:
    endpoint, body, timestamp = delivery.endpoint, event_body(delivery), int(now.timestamp())
    headers = {
        "Billy-Signature": signature_header(
            secrets=signing_secrets(endpoint_id=endpoint.pk, now=now), timestamp=timestamp, body=body
        ),
        "Billy-Event-Id": str(delivery.event_id),
        "Billy-Event-Type": delivery.event.type,
    }
    return post_event(url=endpoint.url, body=body, headers=headers, timeout=settings.BILLY_WEBHOOK_TIMEOUT)


def _record(attempt: WebhookAttempt, result: SendResult, now: dt.datetime) -> Step:
    finished_at = now + dt.timedelta(milliseconds=result.latency_ms)
    with transaction.atomic():
        WebhookAttempt.objects.filter(pk=attempt.pk, finished_at__isnull=True).update(
            finished_at=finished_at, status_code=result.status_code, error=result.error, latency_ms=result.latency_ms
        )
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=attempt.delivery_id).first()
        if delivery is None:  # its endpoint was deleted during the call
            return Step(IDLE)
        if result.succeeded and delivery.status != WebhookDelivery.Status.DELIVERED:
            delivery.status, delivery.finished_at = WebhookDelivery.Status.DELIVERED, finished_at
        elif result.succeeded or attempt.replay or delivery.status != WebhookDelivery.Status.PENDING:
            pass  # a replay that failed changes nothing; nor does anything to a finished delivery
        elif finished_at >= delivery.created_at + dt.timedelta(seconds=settings.BILLY_WEBHOOK_RETRY_WINDOW_SECONDS):
            delivery.status, delivery.finished_at = WebhookDelivery.Status.GIVEN_UP, finished_at
        else:
            delivery.next_attempt_at = finished_at + retry_delay(delivery.attempt_count)
        delivery.save(update_fields=["status", "finished_at", "next_attempt_at"])
    outcome = {WebhookDelivery.Status.DELIVERED: DELIVERED, WebhookDelivery.Status.GIVEN_UP: GIVEN_UP}.get(
        delivery.status, RETRYING
    )
    return Step(outcome, delivery.pk, delivery.next_attempt_at if outcome == RETRYING else None)


def get_delivery(
    *, workspace: Workspace, endpoint_id: int | str, delivery_id: int | str, lock: bool = False
) -> WebhookDelivery:
    """Raises WebhookEndpointNotFound, WebhookDeliveryNotFound."""
    endpoint = get_endpoint(workspace=workspace, endpoint_id=endpoint_id)
    query = WebhookDelivery.objects.select_for_update() if lock else WebhookDelivery.objects
    delivery = query.filter(endpoint=endpoint, pk=delivery_id).first() if is_row_id(delivery_id) else None
    if delivery is None:
        raise WebhookDeliveryNotFound(f"No delivery {delivery_id!r} of webhook endpoint {endpoint_id!r}.")
    return delivery


def replay_delivery(
    *, workspace: Workspace, endpoint_id: int | str, delivery_id: int | str, now: dt.datetime
) -> WebhookDelivery:
    """Send the delivery's event again (same event id), whatever its state: a new attempt, written
    now and made by a job. A success makes a given-up delivery delivered; a failure changes nothing.
    Raises WebhookEndpointNotFound, WebhookDeliveryNotFound."""
    with transaction.atomic():
        delivery = get_delivery(workspace=workspace, endpoint_id=endpoint_id, delivery_id=delivery_id, lock=True)
        attempt = WebhookAttempt.objects.create(delivery=delivery, replay=True, started_at=now)
        defer(REPLAY_TASK, attempt_id=attempt.pk)
    return delivery


def replay_delivery_with_key(
    *,
    workspace: Workspace,
    endpoint_id: int | str,
    delivery_id: int | str,
    key: str | None,
    answer: Callable[[WebhookDelivery], Answer],
    now: dt.datetime,
) -> Answer:
    """replay_delivery once per Idempotency-Key; a repeat replays the first answer. Raises what
    get_delivery, claim_idempotency_key and replay_delivery raise."""
    get_delivery(workspace=workspace, endpoint_id=endpoint_id, delivery_id=delivery_id)  # 404 before the key
    with claim_idempotency_key(
        workspace_id=workspace.pk,
        operation="replay_webhook_delivery",
        key=key,
        request={"endpoint_id": str(endpoint_id), "delivery_id": str(delivery_id)},
        now=now,
    ) as record:
        return answer_once(
            record=record,
            run=lambda: answer(
                replay_delivery(workspace=workspace, endpoint_id=endpoint_id, delivery_id=delivery_id, now=now)
            ),
        )


def send_replay(*, attempt_id: int, now: dt.datetime) -> Step | None:
    """Make a replay attempt written by replay_delivery; None when it was already made (the job ran
    before) or its endpoint is gone."""
    attempt = (
        WebhookAttempt.objects.select_related("delivery__endpoint", "delivery__event")
        .filter(pk=attempt_id, replay=True, finished_at__isnull=True)
        .first()
    )
    if attempt is None:
        return None
    WebhookAttempt.objects.filter(pk=attempt.pk).update(started_at=now)
    return _record(attempt, _send(attempt.delivery, now), now)


def wake_endpoint(*, endpoint_id: int, schedule_in: float | None = None) -> bool:
    """Defer the endpoint's delivery job (in `schedule_in` seconds), unless one is already waiting:
    jobs of one endpoint run one at a time, and at most one waits. Whether a job was deferred."""
    lock = f"webhook-endpoint:{endpoint_id}"
    try:
        with transaction.atomic():  # a savepoint: a refused defer must not abort the caller's transaction
            defer(
                DELIVER_TASK,
                endpoint_id=endpoint_id,
                lock=lock,
                queueing_lock=lock,
                schedule_in={"seconds": schedule_in} if schedule_in else None,
            )
    except AlreadyEnqueued:
        return False
    return True


def endpoints_with_work(*, now: dt.datetime) -> list[int]:
    """Enabled endpoints with a delivery due, or with no delivery under way and events past their
    position in the feed (wanted or not: walking past unwanted ones moves the position on)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT e.id FROM webhook_endpoint e
             WHERE e.enabled
               AND CASE WHEN EXISTS (SELECT 1 FROM webhook_delivery d
                                      WHERE d.endpoint_id = e.id AND d.status = 'PENDING')
                   THEN EXISTS (SELECT 1 FROM webhook_delivery d
                                 WHERE d.endpoint_id = e.id AND d.status = 'PENDING' AND d.next_attempt_at <= %s)
                   ELSE EXISTS (SELECT 1 FROM event v
                                 WHERE v.workspace_id = e.workspace_id AND {visible("v")}
                                   AND (v.xid, v.id) > (e.after_xid::text::xid8, e.after_event_id))
                   END
             ORDER BY e.id
            """,  # noqa: S608 (a fixed fragment, no input)
            [now],
        )
        return [row[0] for row in cursor.fetchall()]


def dispatch(*, now: dt.datetime) -> int:
    """Wake every endpoint that has work; how many jobs were deferred."""
    return sum(wake_endpoint(endpoint_id=endpoint_id) for endpoint_id in endpoints_with_work(now=now))
