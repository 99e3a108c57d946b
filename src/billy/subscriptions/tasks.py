"""Background jobs for card subscriptions: provider calls, webhooks, Auth API, notifications, janitors.

Every job takes ids, is idempotent (the provider, the Auth API and the notification service are
called with keys derived from billy's row ids) and retries with capped backoff until done; a
refusal that retrying cannot fix fails the job at once, and it waits in the admin's failed jobs.

The operations defer these jobs by name through `billy.core.tasks.defer` (e.g.
`defer("billy.subscriptions.submit_payment", payment_id=...)`): this module imports the operations,
never the other way round.
"""

from procrastinate.contrib.django import app

from billy.core import clock
from billy.core.tasks import CappedBackoff, db_task, janitor
from billy.integrations.auth_api import get_auth_api
from billy.integrations.auth_api.port import AuthApiRejected
from billy.integrations.notifications import get_notifier
from billy.integrations.notifications.port import NotificationRejected

from .access import grant_role, notify_user, revoke_role
from .expiry import expire_subscriptions
from .janitor import recheck_open_payments
from .payments import submit_payment
from .provider_notifications import process_notification
from .refunds import submit_refund
from .renewals import renew_due_subscriptions, renew_subscription

_RETRY = CappedBackoff(cap=300)


@app.task(name="billy.subscriptions.submit_payment", queue="payments", retry=_RETRY)
@db_task
def submit_payment_task(payment_id: str) -> str:
    return submit_payment(payment_id=payment_id, now=clock.now()).status


@app.task(name="billy.subscriptions.submit_refund", queue="payments", retry=_RETRY)
@db_task
def submit_refund_task(refund_id: str) -> str:
    return submit_refund(refund_id=refund_id, now=clock.now()).status


@app.task(name="billy.subscriptions.process_notification", queue="payments", retry=_RETRY)
@db_task
def process_notification_task(notification_id: int) -> str:
    return process_notification(notification_id=notification_id, now=clock.now()).outcome


@app.task(
    name="billy.subscriptions.grant_role", queue="auth", retry=CappedBackoff(cap=300, give_up_on=(AuthApiRejected,))
)
@db_task
def grant_role_task(subscription_id: str) -> bool:
    return grant_role(subscription_id=subscription_id, auth_api=get_auth_api(), now=clock.now())


@app.task(
    name="billy.subscriptions.revoke_role", queue="auth", retry=CappedBackoff(cap=300, give_up_on=(AuthApiRejected,))
)
@db_task
def revoke_role_task(subscription_id: str) -> bool:
    return revoke_role(subscription_id=subscription_id, auth_api=get_auth_api(), now=clock.now())


@app.task(
    name="billy.subscriptions.notify_user",
    queue="notifications",
    retry=CappedBackoff(cap=300, give_up_on=(NotificationRejected,)),
)
@db_task
def notify_user_task(subscription_id: str, template: str, key: str, params: dict[str, str] | None = None) -> None:
    notify_user(subscription_id=subscription_id, template=template, key=key, notifier=get_notifier(), params=params)


@janitor(name="billy.subscriptions.expire_subscriptions", cron="* * * * *", periodic_id="expire_subscriptions")
def expire_subscriptions_task(timestamp: int, *, until: float) -> int:
    """Every minute: subscriptions whose period has ended expire and lose their role."""
    return expire_subscriptions(now=clock.now())


@app.task(name="billy.subscriptions.renew_subscription", queue="payments", retry=_RETRY)
@db_task
def renew_subscription_task(subscription_id: str) -> str | None:
    """One subscription's renewal, when due (the admin's "retry renewal now" makes it due)."""
    payment = renew_subscription(subscription_id=subscription_id, now=clock.now())
    return payment.status if payment is not None else None


@janitor(name="billy.subscriptions.renew_subscriptions", cron="* * * * *", periodic_id="renew_subscriptions")
def renew_subscriptions_task(timestamp: int, *, until: float) -> int:
    """Every minute: the saved card pays for the next period of subscriptions whose renewal (or
    dunning retry) is due; returns how many were looked at."""
    return renew_due_subscriptions(now=clock.now(), until=until)


@janitor(name="billy.subscriptions.recheck_open_payments", cron="* * * * *", periodic_id="recheck_open_payments")
def recheck_open_payments_task(timestamp: int, *, until: float) -> int:
    """Janitor: payments without a final answer (no webhook came) and refunds in progress are
    re-read from the provider; returns how many were looked at."""
    return recheck_open_payments(now=clock.now(), until=until)
