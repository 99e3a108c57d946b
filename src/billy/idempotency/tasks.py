"""Background jobs for idempotency keys."""

import datetime as dt

from django.conf import settings
from procrastinate.contrib.django import app

from billy.core import clock
from billy.core.tasks import JANITOR_RETRY, db_task

from . import operations


@app.periodic(cron="17 3 * * *", periodic_id="forget_idempotency_keys")
@app.task(name="billy.idempotency.forget_idempotency_keys", queue="janitor", retry=JANITOR_RETRY)
@db_task
def forget_idempotency_keys_task(timestamp: int) -> int:
    """Daily: drop keys older than BILLY_IDEMPOTENCY_KEY_DAYS."""
    older_than = clock.now() - dt.timedelta(days=settings.BILLY_IDEMPOTENCY_KEY_DAYS)
    return operations.forget_idempotency_keys(older_than=older_than)
