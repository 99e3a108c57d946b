"""Background jobs for family accounts."""

import time

from billy.core import clock
from billy.core.tasks import janitor

from . import spending


@janitor(
    name="billy.families.expire_spendings", cron="* * * * *", periodic_id="expire_family_spendings", queue="families"
)
def expire_spendings_task(timestamp: int, *, until: float) -> int:
    """Release family card holds past their TTL and resolve card calls whose outcome was not
    learnt; runs every minute. A run looks at each row once (`tried`): a card system that does not
    answer leaves them to the next run instead of being asked again and again."""
    now, total, tried = clock.now(), 0, set()
    while time.monotonic() < until and (looked := spending.expire_spendings(now=now, skip=tried)):
        total += looked
    return total
