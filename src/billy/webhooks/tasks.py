"""Background jobs for webhooks: the dispatcher janitor, each endpoint's delivery job, replays.

`billy.webhooks.deliver` runs an endpoint's deliveries one step after another (one job of an
endpoint at a time, by its lock) until nothing is due, then defers itself for the next retry, or
ends when the endpoint has nothing to send: the dispatcher wakes it when the feed has more. Every
step is idempotent (see `delivery`): a job that runs twice, or again after its worker died, sends
an event again at worst, never skips one.
"""

import time

from django.conf import settings
from procrastinate.contrib.django import app

from billy.core import clock
from billy.core.tasks import CappedBackoff, db_task, janitor

from .delivery import IDLE, WAITING, deliver_next, dispatch, send_replay, wake_endpoint

# What fails a job here is billy's database, never the receiver (its answers are outcomes).
_RETRY = CappedBackoff(cap=60)


@app.task(name="billy.webhooks.deliver", queue="webhooks", retry=_RETRY)
@db_task
def deliver_task(endpoint_id: int) -> str:
    deadline = time.monotonic() + settings.BILLY_WEBHOOK_RUN_SECONDS
    while True:
        step = deliver_next(endpoint_id=endpoint_id, now=clock.now())
        if step.outcome == IDLE:
            return step.outcome
        if step.outcome == WAITING:
            wake_endpoint(endpoint_id=endpoint_id, schedule_in=(step.next_attempt_at - clock.now()).total_seconds())
            return step.outcome
        if time.monotonic() > deadline:  # leave the worker slot to others; go on in a new job
            wake_endpoint(endpoint_id=endpoint_id)
            return step.outcome


@app.task(name="billy.webhooks.send_replay", queue="webhooks", retry=_RETRY)
@db_task
def send_replay_task(attempt_id: int) -> str:
    step = send_replay(attempt_id=attempt_id, now=clock.now())
    return step.outcome if step else "done before"


@janitor(name="billy.webhooks.dispatch", cron="* * * * * */5", periodic_id="dispatch_webhooks", queue="webhooks")
def dispatch_task(timestamp: int, *, until: float) -> int:
    """Every 5 seconds: defer the delivery job of each endpoint with events to send or a retry due."""
    return dispatch(now=clock.now())
