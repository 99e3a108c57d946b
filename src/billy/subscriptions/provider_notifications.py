"""The provider's webhooks: stored first, deduplicated, acknowledged, then processed by a job.

A notification's body is only a hint: processing re-reads the object from the provider and records
what the provider says (through `record_provider_payment` / `record_provider_refund`), so a forged
or stale notification changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.db.models import F

from billy.core.errors import UpstreamUnavailable, ValidationFailed
from billy.core.tasks import defer
from billy.integrations.yookassa.port import (
    ProviderNotFound,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRefund,
    ProviderUnavailable,
)
from billy.workspaces.models import Workspace

from .models import ProviderNotification, SubscriptionPayment, SubscriptionRefund
from .payments import record_provider_payment
from .provider import PAYMENT_METADATA_KEY, provider_for
from .refunds import record_provider_refund


def receive_notification(
    *, workspace: Workspace, body: bytes, remote_addr: str, now: dt.datetime
) -> tuple[ProviderNotification, bool]:
    """Store a provider notification (once per event and object) with the job that processes it;
    returns (notification, first delivery). Raises ValidationFailed for a body that is not one, and
    PaymentProviderNotConfigured (the workspace has no shop whose notifications could be read)."""
    provider = provider_for(workspace)
    try:
        parsed = provider.parse_notification(body)
    except ValueError as e:
        raise ValidationFailed({"body": [str(e)]}, "Not a payment provider notification.") from e
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
    return notification, created


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
