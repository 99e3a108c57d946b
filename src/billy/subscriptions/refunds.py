"""Refunds of card payments: ask the provider to give money back, and record what it says.

The refund row is committed (with the job that asks the provider) before the call, keyed by the
row's id; `record_provider_refund` locks it and moves it only forward. Only one refund of a payment
is PENDING or SUCCEEDED at a time (a unique index), so money is never given back twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

from django.db import transaction

from billy.core.errors import InvalidState, UpstreamUnavailable, ValidationFailed
from billy.core.money import format_amount
from billy.core.tasks import defer
from billy.core.timestamps import format_timestamp
from billy.core.validation import check_text
from billy.events import registry
from billy.idempotency.operations import Answer, answer_once, claim_idempotency_key
from billy.integrations.yookassa.port import (
    PaymentProvider,
    ProviderOutcomeUnknown,
    ProviderRefund,
    ProviderRejected,
    ProviderUnavailable,
    RefundRequest,
)
from billy.ledger.models import LedgerTransaction
from billy.workspaces.models import Workspace

from .access import defer_notification, defer_role_change
from .models import Subscription, SubscriptionPayment, SubscriptionRefund
from .payments import post_card_movement
from .plans import refund_amount
from .provider import count_attempt, note_attempt, past_key_window, provider_for
from .queries import SubscriptionNotFound, get_subscription

logger = logging.getLogger(__name__)


def request_refund(
    *, workspace: Workspace, subscription_id: uuid.UUID | str, reason: str, requested_by: str, now: dt.datetime
) -> tuple[SubscriptionRefund, bool]:
    """A PENDING refund of the subscription's payment, committed with the job that asks the provider;
    returns (refund, created). A refund already in flight or done is returned as it is.

    Raises ValidationFailed, SubscriptionNotFound, InvalidState (not active), RefundNotAllowed.
    """
    errors: dict[str, list[str]] = {}
    check_text(errors, "reason", reason, max_length=256, required=False)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("plan")
            .filter(workspace=workspace, pk=subscription_id)
            .first()
        )
        if subscription is None:
            raise SubscriptionNotFound(f"No subscription {subscription_id} in workspace {workspace.name!r}.")
        existing = subscription.refunds.filter(
            status__in=[SubscriptionRefund.Status.PENDING, SubscriptionRefund.Status.SUCCEEDED], automatic=False
        ).first()
        if existing is not None:
            return existing, False
        if subscription.status not in (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE):
            raise InvalidState(
                f"Only an active subscription can be refunded; this one is {subscription.status}.",
                details={"status": subscription.status},
            )
        # The policy applies to the paid period's payment.
        payment = subscription.payments.get(
            status=SubscriptionPayment.Status.SUCCEEDED, period=subscription.period_number
        )
        amount = refund_amount(
            plan=subscription.plan,
            paid=payment.amount,
            period_start=subscription.period_start,
            period_end=subscription.period_end,
            now=now,
        )
        refund = SubscriptionRefund.objects.create(
            id=uuid.uuid4(),
            workspace=workspace,
            subscription=subscription,
            payment=payment,
            amount=amount,
            currency=payment.currency,
            reason=reason,
            requested_by=requested_by[:128],
            created_at=now,
            updated_at=now,
        )
        defer("billy.subscriptions.submit_refund", refund_id=str(refund.pk))
    return refund, True


def request_refund_with_key(
    *,
    workspace: Workspace,
    subscription_id: str,
    reason: str,
    requested_by: str,
    key: str | None,
    answer: Callable[[SubscriptionRefund, bool], Answer],
    now: dt.datetime,
    operation: str = "refund_subscription",
) -> Answer:
    """`request_refund` once per Idempotency-Key: the key's first answer is replayed as it was.

    `answer(refund, created)` is the transport's answer (status and body), kept for the key.
    Raises SubscriptionNotFound (before the key is looked at), what claim_idempotency_key raises
    (ValidationFailed, IdempotencyConflict, KeyInProgress) and what request_refund raises.
    """
    subscription = get_subscription(workspace=workspace, subscription_id=subscription_id)
    with claim_idempotency_key(
        workspace_id=workspace.pk,
        operation=operation,
        key=key,
        request={"subscription_id": str(subscription.pk), "reason": reason},
        now=now,
    ) as record:

        def run() -> Answer:
            refund, created = request_refund(
                workspace=workspace, subscription_id=subscription.pk, reason=reason, requested_by=requested_by, now=now
            )
            return answer(refund, created)

        return answer_once(record=record, run=run)


def submit_refund(*, refund_id: uuid.UUID | str, now: dt.datetime) -> SubscriptionRefund:
    """Make sure the provider has the refund, and record what it says (also polls one in progress).

    Raises UpstreamUnavailable when the provider could not answer (the caller retries).
    """
    refund = SubscriptionRefund.objects.select_related("workspace", "payment").get(pk=refund_id)
    if refund.status != SubscriptionRefund.Status.PENDING:
        return refund
    provider = provider_for(refund.workspace)
    try:
        if refund.provider_refund_id:
            return record_provider_refund(
                refund_id=refund.pk, provider_refund=provider.get_refund(refund.provider_refund_id), now=now
            )
        if past_key_window(refund, now):
            return _resolve_old_refund(provider, refund, now=now)
        count_attempt(SubscriptionRefund, refund.pk, now=now)
        try:
            created = provider.create_refund(
                RefundRequest(
                    payment_id=refund.payment.provider_payment_id,
                    amount=refund.amount,
                    currency=refund.currency,
                    description=f"Refund {refund.pk}",
                ),
                idempotence_key=str(refund.pk),
            )
        except ProviderRejected as e:
            # A refusal of a retry may mean an earlier attempt made it: look before failing.
            if refund.attempts > 0:
                return _resolve_old_refund(provider, refund, now=now, reason=f"rejected: {e.code}")
            logger.warning("provider refused refund %s: %s", refund.pk, e)
            return _fail_refund_by_id(refund.pk, reason=f"rejected: {e.code}", now=now)
    except ProviderRejected as e:
        # Only a create can fail a refund; a refused read (e.g. credentials being rotated) says
        # nothing about the refund, which stays PENDING for the next poll.
        logger.error("reading refund %s from the provider was refused: %s", refund.pk, e)
        note_attempt(SubscriptionRefund, refund.pk, now=now, error=f"read refused: {e}")
        raise UpstreamUnavailable("The payment provider refused to show the refund; billy keeps trying.") from e
    except (ProviderUnavailable, ProviderOutcomeUnknown) as e:
        note_attempt(SubscriptionRefund, refund.pk, now=now, error=str(e))
        raise UpstreamUnavailable("The payment provider did not answer; billy keeps trying.") from e
    return record_provider_refund(refund_id=refund.pk, provider_refund=created, now=now)


def _resolve_old_refund(
    provider: PaymentProvider, refund: SubscriptionRefund, *, now: dt.datetime, reason: str = "not_created_at_provider"
):
    """The provider's refunds of the payment tell whether ours was made (past the key window, or
    when a retried create is refused): one of the same amount that no other refund of the payment has."""
    # A provider refund belongs to one payment, so only this payment's refunds can have taken one.
    taken = set(
        SubscriptionRefund.objects.filter(payment_id=refund.payment_id)
        .exclude(provider_refund_id=None)
        .values_list("provider_refund_id", flat=True)
    )
    for candidate in provider.find_refunds(payment_id=refund.payment.provider_payment_id):
        if candidate.id not in taken and candidate.amount == refund.amount:
            return record_provider_refund(refund_id=refund.pk, provider_refund=candidate, now=now)
    return _fail_refund_by_id(refund.pk, reason=reason, now=now)


def record_provider_refund(
    *, refund_id: uuid.UUID | str, provider_refund: ProviderRefund, now: dt.datetime
) -> SubscriptionRefund:
    """Apply the provider's view of the refund (re-read from the provider)."""
    with transaction.atomic():
        refund = (
            SubscriptionRefund.objects.select_for_update(of=("self", "subscription"))
            .select_related("subscription__plan", "payment", "workspace")
            .get(pk=refund_id)
        )
        if provider_refund.payment_id != refund.payment.provider_payment_id:
            raise ValueError(f"provider refund {provider_refund.id} is not of payment {refund.payment_id}")
        refund.provider_refund_id = provider_refund.id
        refund.provider_status = provider_refund.status
        refund.updated_at = now
        if refund.status == SubscriptionRefund.Status.FAILED and provider_refund.status == "succeeded":
            # The money went back after all: book it (the unique index refuses a second success
            # for the payment, which would be a double refund at the provider for an operator).
            logger.error("refund %s was FAILED but the provider paid it: booking it", refund.pk)
            refund.status = SubscriptionRefund.Status.PENDING
        if refund.status == SubscriptionRefund.Status.PENDING and provider_refund.status == "succeeded":
            _complete_refund(refund, now=now)
        elif refund.status == SubscriptionRefund.Status.PENDING and provider_refund.status == "canceled":
            refund.status = SubscriptionRefund.Status.FAILED
            refund.failure_reason = (provider_refund.cancellation_reason or "canceled")[:128]
        refund.save()
        return refund


def _complete_refund(refund: SubscriptionRefund, *, now: dt.datetime) -> None:
    subscription = refund.subscription
    refund.transaction = post_card_movement(
        workspace_id=refund.workspace_id,
        kind=LedgerTransaction.Kind.CARD_REFUND,
        amount=refund.amount,
        currency=refund.currency,
        description=f"card refund {refund.pk}",
        source={
            "subscription_id": str(subscription.pk),
            "payment_id": str(refund.payment_id),
            "refund_id": str(refund.pk),
        },
        event=registry.SUBSCRIPTION_REFUND_SUCCEEDED.build(
            refund_id=str(refund.pk),
            payment_id=str(refund.payment_id),
            subscription_id=str(subscription.pk),
            user_id=subscription.user_id,
            plan=subscription.plan.code,
            amount=format_amount(refund.amount),
            currency=refund.currency,
            provider_refund_id=refund.provider_refund_id,
            at=format_timestamp(now),
        ),
        now=now,
    )
    refund.status = SubscriptionRefund.Status.SUCCEEDED
    refund.succeeded_at = now
    if refund.automatic:
        # Money the subscription could not take, given back: the subscription stays as it is.
        defer_notification(subscription, template="subscription_payment_refunded", key=f"refunded-{refund.pk}")
        return
    was_active = subscription.status in (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE)
    subscription.status = Subscription.Status.REFUNDED
    subscription.ended_at = subscription.ended_at or now
    subscription.next_renewal_at = None
    subscription.updated_at = now
    subscription.save()
    if was_active:
        defer_role_change(subscription, grant=False)
    defer_notification(subscription, template="subscription_refunded", key=f"refunded-{refund.pk}")


def _fail_refund_by_id(refund_id, *, reason: str, now: dt.datetime) -> SubscriptionRefund:
    with transaction.atomic():
        refund = SubscriptionRefund.objects.select_for_update().get(pk=refund_id)
        if refund.status == SubscriptionRefund.Status.PENDING:
            refund.status = SubscriptionRefund.Status.FAILED
            refund.failure_reason = reason[:128]
            refund.updated_at = now
            refund.save()
        return refund
