"""Background jobs for card subscriptions: provider calls, webhooks, Auth API, notifications, janitors.

Every job takes ids, is idempotent (the provider, the Auth API and the notification service are
called with keys derived from billy's row ids) and retries with capped backoff until done; a
refusal that retrying cannot fix fails the job at once, and it waits in the admin's failed jobs.

The operations defer these jobs by name through `billy.core.tasks.defer` (e.g.
`defer("billy.subscriptions.submit_payment", payment_id=...)`): this module imports the operations,
never the other way round.
"""

import datetime as dt
import logging

from django.conf import settings
from procrastinate.contrib.django import app

from billy.core import clock
from billy.core.errors import BillyError
from billy.core.tasks import CappedBackoff, db_task
from billy.integrations.auth_api import get_auth_api
from billy.integrations.auth_api.port import AuthApiRejected
from billy.integrations.notifications import get_notifier
from billy.integrations.notifications.port import NotificationRejected

from . import operations, queries

logger = logging.getLogger(__name__)

_RETRY = CappedBackoff(cap=300)


@app.task(name="billy.subscriptions.submit_payment", queue="payments", retry=_RETRY)
@db_task
def submit_payment_task(payment_id: str) -> str:
    return operations.submit_payment(payment_id=payment_id, now=clock.now()).status


@app.task(name="billy.subscriptions.submit_refund", queue="payments", retry=_RETRY)
@db_task
def submit_refund_task(refund_id: str) -> str:
    return operations.submit_refund(refund_id=refund_id, now=clock.now()).status


@app.task(name="billy.subscriptions.process_notification", queue="payments", retry=_RETRY)
@db_task
def process_notification_task(notification_id: int) -> str:
    return operations.process_notification(notification_id=notification_id, now=clock.now()).outcome


@app.task(
    name="billy.subscriptions.grant_role", queue="auth", retry=CappedBackoff(cap=300, give_up_on=(AuthApiRejected,))
)
@db_task
def grant_role_task(subscription_id: str) -> bool:
    return operations.grant_role(subscription_id=subscription_id, auth_api=get_auth_api(), now=clock.now())


@app.task(
    name="billy.subscriptions.revoke_role", queue="auth", retry=CappedBackoff(cap=300, give_up_on=(AuthApiRejected,))
)
@db_task
def revoke_role_task(subscription_id: str) -> bool:
    return operations.revoke_role(subscription_id=subscription_id, auth_api=get_auth_api(), now=clock.now())


@app.task(
    name="billy.subscriptions.notify_user",
    queue="notifications",
    retry=CappedBackoff(cap=300, give_up_on=(NotificationRejected,)),
)
@db_task
def notify_user_task(subscription_id: str, template: str, key: str) -> None:
    operations.notify_user(subscription_id=subscription_id, template=template, key=key, notifier=get_notifier())


@app.periodic(cron="* * * * *", periodic_id="expire_subscriptions")
@app.task(name="billy.subscriptions.expire_subscriptions", queue="janitor")
@db_task
def expire_subscriptions_task(timestamp: int) -> int:
    """Every minute: subscriptions whose period has ended expire and lose their role."""
    return operations.expire_subscriptions(now=clock.now())


@app.periodic(cron="* * * * *", periodic_id="recheck_open_payments")
@app.task(name="billy.subscriptions.recheck_open_payments", queue="janitor")
@db_task
def recheck_open_payments_task(timestamp: int) -> int:
    """Janitor: payments without a final answer (no webhook came) and refunds in progress are
    re-read from the provider; returns how many were looked at."""
    return recheck_open_payments(now=clock.now())


def recheck_open_payments(*, now: dt.datetime) -> int:
    looked_at = 0
    payments_before = now - dt.timedelta(seconds=settings.BILLY_PAYMENT_RECHECK_SECONDS)
    for payment_id in queries.open_payments(untouched_since=payments_before):
        looked_at += 1
        try:
            operations.recheck_payment(payment_id=payment_id, now=now)
        except BillyError as e:
            logger.warning("payment %s stays open: %s", payment_id, e.message)
        except Exception:  # one broken payment must not stop the janitor for every other one
            logger.exception("payment %s could not be re-checked", payment_id)
    refunds_before = now - dt.timedelta(seconds=settings.BILLY_REFUND_POLL_SECONDS)
    for refund_id in queries.open_refunds(untouched_since=refunds_before):
        looked_at += 1
        try:
            operations.submit_refund(refund_id=refund_id, now=now)
        except BillyError as e:
            logger.warning("refund %s stays in progress: %s", refund_id, e.message)
        except Exception:
            logger.exception("refund %s could not be polled", refund_id)
    return looked_at
