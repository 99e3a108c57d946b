"""Background jobs for charges."""

from procrastinate.contrib.django import app

from billy.core import clock
from billy.core.tasks import JANITOR_RETRY, db_task

from . import operations


@app.periodic(cron="* * * * *", periodic_id="expire_holds")
@app.task(name="billy.charges.expire_holds", queue="charges", retry=JANITOR_RETRY)
@db_task
def expire_holds_task(timestamp: int) -> int:
    """Cancel holds past their TTL; runs every minute, and catches up on minutes it missed."""
    now, total = clock.now(), 0
    while expired := operations.expire_holds(now=now):
        total += expired
    return total
