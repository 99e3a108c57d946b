"""Background jobs for idempotency keys."""

import datetime as dt

from django.conf import settings

from billy.core import clock
from billy.core.tasks import janitor

from . import operations


@janitor(name="billy.idempotency.forget_idempotency_keys", cron="17 3 * * *", periodic_id="forget_idempotency_keys")
def forget_idempotency_keys_task(timestamp: int, *, until: float) -> int:
    """Daily: drop keys older than BILLY_IDEMPOTENCY_KEY_DAYS."""
    older_than = clock.now() - dt.timedelta(days=settings.BILLY_IDEMPOTENCY_KEY_DAYS)
    return operations.forget_idempotency_keys(older_than=older_than)
