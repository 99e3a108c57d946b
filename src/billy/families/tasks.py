"""Background jobs for family accounts."""

import time

from django.conf import settings
from procrastinate.contrib.django import app

from billy.core import clock
from billy.core.tasks import CappedBackoff, db_task, janitor
from billy.integrations.cards import get_card_system
from billy.integrations.identity import get_identity_provider
from billy.integrations.notifications import get_notifier
from billy.integrations.notifications.port import NotificationRejected

from . import migration, spending


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


# Retried whatever stopped it (the provider, the card system, the database restarting): each step
# is idempotent and the move resumes where it stopped.
_MIGRATION_RETRY = CappedBackoff(cap=settings.BILLY_FAMILY_MIGRATION_RETRY_CAP_SECONDS)


@app.task(name="billy.families.migrate_family", queue="families", retry=_MIGRATION_RETRY)
@db_task
def migrate_family_task(family_pk: int, source: str = "LAZY") -> str:
    """One family's move to the identity provider, as far as it goes; retried while the provider
    (or the card system) cannot serve it."""
    return migration.migrate_family(
        family_pk=family_pk,
        identity=get_identity_provider(),
        cards=get_card_system(),
        now=clock.now(),
        source=source,
    )


@app.task(
    name=migration.NOTIFY_TASK,
    queue="notifications",
    retry=CappedBackoff(cap=300, give_up_on=(NotificationRejected,)),
)
@db_task
def notify_migrated_task(key: str, scope: str, user_id: str, template: str, params: dict[str, str]) -> None:
    """The push about the move, once per user (the key)."""
    get_notifier().send(key=key, scope=scope, user_id=user_id, template=template, params=params)


@app.task(name="billy.families.sync_family_card", queue="families", retry=CappedBackoff(cap=300))
@db_task
def sync_family_card_task(family_pk: int) -> bool:
    """A migrated family's card and limits, handed to the card payment system again after a change."""
    return migration.sync_family_card(family_pk=family_pk, cards=get_card_system())
