"""Background jobs for charges."""

import time

from billy.core import clock
from billy.core.tasks import janitor

from . import operations


@janitor(name="billy.charges.expire_holds", cron="* * * * *", periodic_id="expire_holds", queue="charges")
def expire_holds_task(timestamp: int, *, until: float) -> int:
    """Cancel holds past their TTL; runs every minute, and catches up on minutes it missed."""
    now, total = clock.now(), 0
    while time.monotonic() < until and (expired := operations.expire_holds(now=now)):
        total += expired
    return total
