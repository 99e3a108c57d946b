"""The provider's webhooks: refused at the door when junk, else stored first, deduplicated,
acknowledged, then processed by a job.

A notification names an object. One about no payment or refund billy made in the workspace is
counted as ignored (one UPSERT on a counter row per workspace and event, `IgnoredNotification`),
with no job and no provider call: a flood of forged ids costs one cheap write each. One about
billy's own object is stored once per event and object (repeats only count a delivery) with a job.
The same rules are meant for Balance's payment notifications when billy takes them.

A notification's body is only a hint: processing re-reads the object from the provider and records
what the provider says (through `record_provider_payment` / `record_provider_refund`), so a forged
or stale notification changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import F, Q

from billy.core.errors import BillyError, UpstreamUnavailable, ValidationFailed
from billy.core.tasks import defer
from billy.integrations.yookassa.port import (
    Notification,
    ProviderNotFound,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRefund,
    ProviderUnavailable,
)
from billy.workspaces.models import Workspace
from billy.workspaces.queries import WorkspaceNotFound, get_workspace

from .models import ProviderNotification, SubscriptionPayment, SubscriptionRefund
from .payments import record_provider_payment
from .provider import PAYMENT_METADATA_KEY, PaymentProviderNotConfigured, provider_for
from .refunds import record_provider_refund

RECEIVED, DUPLICATE, IGNORED = "received", "duplicate", "ignored"
# How many of the latest ignored object ids a counter row keeps, for an operator to look up.
IGNORED_IDS_KEPT = 5


class WebhookNotFound(BillyError):
    """No workspace by that name, or one without a provider shop: the same answer for both, so the
    unauthenticated webhook tells nobody which workspaces exist."""

    code = "not_found"
    default_message = "No provider notifications are taken here."


def _admit_all() -> None:
    return None


def receive_notification(
    *,
    workspace_name: str,
    body: bytes,
    remote_addr: str,
    now: dt.datetime,
    admit_ignored: Callable[[], None] = _admit_all,
) -> str:
    """Take a provider notification for the named workspace; returns RECEIVED (first delivery:
    stored with the job that processes it), DUPLICATE (stored before: a delivery counted) or
    IGNORED (about no payment or refund billy made here: counted, nothing else).

    `admit_ignored` is called before an ignored notification is counted and may raise to refuse it
    (the HTTP view's per-source rate limit): notifications about billy's own objects never pass it.
    Raises WebhookNotFound (no such workspace, or no provider configured for it) and ValidationFailed
    (a body that is not a notification)."""
    try:
        workspace = get_workspace(workspace_name)
        provider = provider_for(workspace)
    except (WorkspaceNotFound, PaymentProviderNotConfigured) as e:
        raise WebhookNotFound(f"No provider notifications are taken for workspace {workspace_name[:64]!r}.") from e
    try:
        parsed = provider.parse_notification(body)
    except ValueError as e:
        raise ValidationFailed({"body": [str(e)]}, "Not a payment provider notification.") from e
    if not _names_billy_object(workspace, parsed):
        admit_ignored()
        _count_ignored(workspace=workspace, notification=parsed, remote_addr=remote_addr, now=now)
        return IGNORED
    with transaction.atomic():
        notification, created = ProviderNotification.objects.get_or_create(
            workspace=workspace,
            provider="yookassa",
            event=parsed.event,
            object_id=parsed.object_id,
            defaults={
                "body": body.decode("utf-8", "replace"),
                "remote_addr": remote_addr[:64],
                "received_at": now,
                "last_received_at": now,
            },
        )
        if created:
            defer("billy.subscriptions.process_notification", notification_id=notification.pk)
        else:
            ProviderNotification.objects.filter(pk=notification.pk).update(
                deliveries=F("deliveries") + 1, last_received_at=now
            )
            if notification.status == ProviderNotification.Status.IGNORED:
                # Ignored earlier (e.g. a forged one arrived first, while the payment was still
                # pending): the real one is processed, by the same re-read.
                ProviderNotification.objects.filter(pk=notification.pk).update(
                    status=ProviderNotification.Status.RECEIVED
                )
                defer("billy.subscriptions.process_notification", notification_id=notification.pk)
    return RECEIVED if created else DUPLICATE


def _names_billy_object(workspace: Workspace, notification: Notification) -> bool:
    """Whether the notification may be about a payment or refund billy made in the workspace.

    A payment is known by the provider's id, recorded from the create call's answer: the payer
    reaches the payment page only through that answer, so no payment can be paid before billy knows
    its id (and the janitor re-reads payments left without one). A refund's id may not be recorded
    yet when its notification comes, so while a refund of the payment the notification names waits
    for its id, that payment's refund notifications take the job's way (which finds the refund by
    its payment); junk naming other payments, or none, stays at the door."""
    if notification.event.startswith("payment."):
        return SubscriptionPayment.objects.filter(
            workspace=workspace, provider_payment_id=notification.object_id
        ).exists()
    awaiting_its_id = Q(
        status=SubscriptionRefund.Status.PENDING,
        provider_refund_id__isnull=True,
        payment__provider_payment_id=notification.payment_id,
    )
    return SubscriptionRefund.objects.filter(
        Q(provider_refund_id=notification.object_id) | (awaiting_its_id if notification.payment_id else Q(pk__in=[])),
        workspace=workspace,
    ).exists()


_COUNT_IGNORED = """
    INSERT INTO ignored_notification AS i
        (workspace_id, provider, event, count, first_seen_at, last_seen_at, last_object_ids, last_remote_addr)
    VALUES (%(workspace_id)s, %(provider)s, %(event)s, 1, %(now)s, %(now)s, ARRAY[%(object_id)s]::varchar[],
            %(remote_addr)s)
    ON CONFLICT (workspace_id, provider, event) DO UPDATE SET
        count = i.count + 1,
        last_seen_at = GREATEST(i.last_seen_at, EXCLUDED.last_seen_at),
        last_object_ids = (EXCLUDED.last_object_ids || i.last_object_ids)[1:%(kept)s],
        last_remote_addr = EXCLUDED.last_remote_addr
"""


def _count_ignored(*, workspace: Workspace, notification: Notification, remote_addr: str, now: dt.datetime) -> None:
    """One statement, one row per workspace and event: the cost of junk does not grow with its volume."""
    with connection.cursor() as cursor:
        cursor.execute(
            _COUNT_IGNORED,
            {
                "workspace_id": workspace.pk,
                "provider": "yookassa",
                "event": notification.event,
                "now": now,
                "object_id": notification.object_id,
                "remote_addr": remote_addr[:64],
                "kept": IGNORED_IDS_KEPT,
            },
        )


def process_notification(*, notification_id: int, now: dt.datetime) -> ProviderNotification:
    """Re-read the notified object from the provider and record what the provider says (the
    notification's own body is never trusted). Raises UpstreamUnavailable (the job retries)."""
    notification = ProviderNotification.objects.select_related("workspace").get(pk=notification_id)
    if notification.status != ProviderNotification.Status.RECEIVED:
        return notification
    provider = provider_for(notification.workspace)
    status, outcome = ProviderNotification.Status.PROCESSED, ""
    try:
        if notification.event.startswith("payment."):
            current = provider.get_payment(notification.object_id)
            payment = _billy_payment(notification.workspace, current)
            if payment is None:
                status, outcome = ProviderNotification.Status.IGNORED, "not a payment billy made"
            else:
                payment = record_provider_payment(payment_id=payment.pk, provider_payment=current, now=now)
                outcome = f"payment {payment.pk} {payment.status}"
                if notification.event.removeprefix("payment.") != current.status:
                    # The provider does not say what the notification said: not the real one.
                    status, outcome = ProviderNotification.Status.IGNORED, f"the provider says {current.status}"
        else:
            current_refund = provider.get_refund(notification.object_id)
            refund = _billy_refund(notification.workspace, current_refund)
            if refund is None:
                status, outcome = ProviderNotification.Status.IGNORED, "not a refund billy made"
            else:
                refund = record_provider_refund(refund_id=refund.pk, provider_refund=current_refund, now=now)
                outcome = f"refund {refund.pk} {refund.status}"
    except ProviderNotFound:
        status, outcome = ProviderNotification.Status.IGNORED, "the provider does not know this object"
    except (ProviderUnavailable, ProviderOutcomeUnknown) as e:
        raise UpstreamUnavailable("The payment provider is unavailable; the notification waits.") from e
    ProviderNotification.objects.filter(pk=notification.pk).update(status=status, outcome=outcome, processed_at=now)
    notification.status, notification.outcome, notification.processed_at = status, outcome, now
    return notification


def _billy_payment(workspace: Workspace, current: ProviderPayment) -> SubscriptionPayment | None:
    try:
        payment_id = uuid.UUID(current.metadata.get(PAYMENT_METADATA_KEY, ""))
    except ValueError:
        return None
    return SubscriptionPayment.objects.filter(workspace=workspace, pk=payment_id).first()


def _billy_refund(workspace: Workspace, current: ProviderRefund) -> SubscriptionRefund | None:
    refund = SubscriptionRefund.objects.filter(workspace=workspace, provider_refund_id=current.id).first()
    if refund is None:
        # The create call's answer may not be recorded yet: one refund per payment is in flight.
        refund = SubscriptionRefund.objects.filter(
            workspace=workspace,
            payment__provider_payment_id=current.payment_id,
            status=SubscriptionRefund.Status.PENDING,
            provider_refund_id=None,
            amount=current.amount,
        ).first()
    return refund
