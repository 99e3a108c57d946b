"""Background jobs for clients."""

import datetime as dt
import logging
import time

from django.conf import settings
from procrastinate.contrib.django import app

from billy.core import clock
from billy.core.errors import BillyError
from billy.core.tasks import CappedBackoff, db_task, janitor
from billy.integrations.balance import get_balance
from billy.integrations.balance.port import BalanceFault

from . import operations, queries

logger = logging.getLogger(__name__)


@app.task(
    name="billy.clients.link_client_configuration",
    queue="balance",
    # Retried with capped backoff until done; a Balance fault (e.g. an unknown configuration)
    # fails at once and waits in the admin for an operator.
    retry=CappedBackoff(cap=300, give_up_on=(BalanceFault,)),
)
@db_task
def link_client_configuration_task(client_id: int) -> bool:
    return operations.link_client_configuration(client_id=client_id, balance=get_balance(), now=clock.now())


@janitor(
    name="billy.clients.resume_stalled_registrations",
    cron="*/5 * * * *",
    periodic_id="resume_stalled_registrations",
    queue="balance",
)
def resume_stalled_registrations_task(timestamp: int, *, until: float) -> int:
    """Janitor: finish registrations left PENDING by callers that gave up; returns how many ended ACTIVE."""
    now = clock.now()
    untouched_since = now - dt.timedelta(seconds=settings.BILLY_STALLED_REGISTRATION_SECONDS)
    balance, finished = get_balance(), 0
    for client_id in queries.stalled_registrations(untouched_since=untouched_since):
        if time.monotonic() >= until:
            break  # the next run goes on
        try:
            client = operations.resume_client_registration(client_id=client_id, balance=balance, now=now)
        except BillyError as e:
            logger.warning("client %s stays %s: %s", client_id, e.code, e.message)
            continue
        finished += client.status == client.Status.ACTIVE
    return finished
