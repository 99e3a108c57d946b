"""Card payments: make sure the provider has the payment, and record what it says.

Write first, then call out: the payment row is committed (with the job that finishes the call)
before billy calls the provider with the row's id as the `Idempotence-Key`. Every answer, whichever
way it arrives (the create call, a webhook's re-read, the janitor), goes through
`record_provider_payment`, which locks the row and moves it only forward, so a repeat changes
nothing and money is posted once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import transaction

from billy.core.errors import UpstreamUnavailable
from billy.core.money import format_amount
from billy.core.timestamps import format_timestamp
from billy.events import registry
from billy.events.registry import NewEvent
from billy.integrations.yookassa.port import (
    PaymentProvider,
    PaymentRequest,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRejected,
    ProviderUnavailable,
)
from billy.ledger.models import Account, LedgerTransaction
from billy.ledger.postings import Movement, post_movement, system_account

from . import periods
from .access import defer_notification
from .models import Subscription, SubscriptionPayment
from .provider import PAYMENT_METADATA_KEY, count_attempt, note_attempt, past_key_window, provider_for

logger = logging.getLogger(__name__)


def _payment_request(payment: SubscriptionPayment) -> PaymentRequest:
    # Built only from the stored row: every retry sends the byte-identical body.
    return PaymentRequest(
        amount=payment.amount,
        currency=payment.currency,
        description=payment.description,
        return_url=payment.return_url,
        metadata={PAYMENT_METADATA_KEY: str(payment.pk)},
        save_payment_method=payment.save_payment_method,
        payment_method_id=payment.payment_method_id or None,
    )


def submit_payment(*, payment_id: uuid.UUID | str, now: dt.datetime) -> SubscriptionPayment:
    """Make sure the provider has the payment, and record what it says. Idempotent.

    Within the provider's key window the create call is repeated with the payment's id as key;
    after it, the payment is only looked up by its metadata (and FAILED when the provider never got
    it). Raises UpstreamUnavailable when the provider could not answer (the caller retries).
    """
    payment = SubscriptionPayment.objects.select_related("workspace").get(pk=payment_id)
    if payment.status != SubscriptionPayment.Status.NEW:
        return payment
    provider = provider_for(payment.workspace)
    if past_key_window(payment, now):
        found = _find_payment(provider, payment)
        if found is None:
            return _fail_payment_by_id(payment.pk, reason="not_created_at_provider", now=now)
        return record_provider_payment(payment_id=payment.pk, provider_payment=found, now=now)
    count_attempt(SubscriptionPayment, payment.pk, now=now)
    try:
        created = provider.create_payment(_payment_request(payment), idempotence_key=str(payment.pk))
    except ProviderRejected as e:
        logger.warning("provider refused payment %s: %s", payment.pk, e)
        return _fail_payment_by_id(payment.pk, reason=f"rejected: {e.code}"[:128], now=now)
    except ProviderOutcomeUnknown as e:
        note_attempt(SubscriptionPayment, payment.pk, now=now, error=f"outcome unknown: {e}")
        found = _find_payment(provider, payment, quiet=True)
        if found is None:
            raise UpstreamUnavailable(
                "The payment provider did not answer; billy keeps trying.",
                details={"payment_id": str(payment.pk)},
                retry_after=settings.BILLY_RETRY_AFTER_SECONDS,
            ) from e
        return record_provider_payment(payment_id=payment.pk, provider_payment=found, now=now)
    except ProviderUnavailable as e:
        note_attempt(SubscriptionPayment, payment.pk, now=now, error=f"unavailable: {e}")
        raise UpstreamUnavailable(
            "The payment provider is unavailable; billy keeps trying.",
            details={"payment_id": str(payment.pk)},
            retry_after=settings.BILLY_RETRY_AFTER_SECONDS,
        ) from e
    return record_provider_payment(payment_id=payment.pk, provider_payment=created, now=now)


def _find_payment(provider: PaymentProvider, payment: SubscriptionPayment, *, quiet: bool = False):
    try:
        return provider.find_payment(
            metadata_key=PAYMENT_METADATA_KEY,
            metadata_value=str(payment.pk),
            created_since=payment.created_at - dt.timedelta(minutes=5),
        )
    except (ProviderUnavailable, ProviderOutcomeUnknown, ProviderRejected) as e:
        if quiet:
            return None
        raise UpstreamUnavailable("The payment provider could not list payments; billy keeps trying.") from e


def recheck_payment(*, payment_id: uuid.UUID | str, now: dt.datetime) -> SubscriptionPayment:
    """Re-read the payment from the provider and record it (janitor, admin). Raises UpstreamUnavailable."""
    payment = SubscriptionPayment.objects.select_related("workspace").get(pk=payment_id)
    if payment.status == SubscriptionPayment.Status.NEW:
        return submit_payment(payment_id=payment.pk, now=now)
    if payment.status != SubscriptionPayment.Status.PENDING:
        return payment
    try:
        current = provider_for(payment.workspace).get_payment(payment.provider_payment_id)
    except ProviderRejected as e:
        # A refused read says nothing about the payment: it stays open, and waits one interval.
        logger.error("reading payment %s from the provider was refused: %s", payment.pk, e)
        note_attempt(SubscriptionPayment, payment.pk, now=now, error=f"read refused: {e}")
        raise UpstreamUnavailable("The payment provider refused to show the payment; billy keeps trying.") from e
    except (ProviderUnavailable, ProviderOutcomeUnknown) as e:
        note_attempt(SubscriptionPayment, payment.pk, now=now, error=str(e))
        raise UpstreamUnavailable("The payment provider is unavailable; billy keeps trying.") from e
    recorded = record_provider_payment(payment_id=payment.pk, provider_payment=current, now=now)
    note_attempt(SubscriptionPayment, payment.pk, now=now)  # re-read again one interval from now
    return recorded


def record_provider_payment(
    *, payment_id: uuid.UUID | str, provider_payment: ProviderPayment, now: dt.datetime
) -> SubscriptionPayment:
    """Apply the provider's view of the payment (re-read from the provider, never a webhook's body)."""
    with transaction.atomic():
        # Lock the payment and its subscription only: a lock on the joined plan or workspace row
        # would serialise (and could deadlock) every payment of the plan.
        payment = (
            SubscriptionPayment.objects.select_for_update(of=("self", "subscription"))
            .select_related("subscription__plan", "workspace")
            .get(pk=payment_id)
        )
        if provider_payment.metadata.get(PAYMENT_METADATA_KEY) != str(payment.pk):
            raise ValueError(f"provider payment {provider_payment.id} is not billy's payment {payment.pk}")
        payment.provider_payment_id = provider_payment.id
        payment.provider_status = provider_payment.status
        payment.confirmation_url = provider_payment.confirmation_url or payment.confirmation_url
        payment.updated_at = now
        is_open = payment.status in (SubscriptionPayment.Status.NEW, SubscriptionPayment.Status.PENDING)
        if payment.status == SubscriptionPayment.Status.FAILED and provider_payment.status == "succeeded":
            is_open = _reopen_failed_payment(payment)
        if is_open and provider_payment.status == "succeeded":
            _complete_payment(payment, provider_payment, now=now)
        elif is_open and provider_payment.status == "canceled":
            _fail_payment(payment, reason=provider_payment.cancellation_reason or "canceled", now=now)
        elif payment.status == SubscriptionPayment.Status.NEW:
            payment.status = SubscriptionPayment.Status.PENDING
        elif not is_open and provider_payment.status not in ("succeeded", "canceled"):
            logger.error(
                "payment %s is %s but the provider says %s", payment.pk, payment.status, provider_payment.status
            )
        payment.save()
        return payment


def _reopen_failed_payment(payment: SubscriptionPayment) -> bool:
    """The provider took money billy had given up on: book it, unless another payment of the period
    is in flight or paid (then it waits for an operator). Returns whether it is booked."""
    others = SubscriptionPayment.objects.filter(
        subscription_id=payment.subscription_id,
        period=payment.period,
        status__in=[
            SubscriptionPayment.Status.NEW,
            SubscriptionPayment.Status.PENDING,
            SubscriptionPayment.Status.SUCCEEDED,
        ],
    ).exclude(pk=payment.pk)
    if others.exists():
        logger.error("payment %s was FAILED but the provider took it, and its period is paid otherwise", payment.pk)
        payment.last_error = "the provider took a payment billy had failed; the period is paid otherwise"
        return False
    logger.error("payment %s was FAILED but the provider took it: booking it", payment.pk)
    payment.status = SubscriptionPayment.Status.PENDING
    return True


def _complete_payment(payment: SubscriptionPayment, provider_payment: ProviderPayment, *, now: dt.datetime) -> None:
    """SUCCEEDED: post provider clearing → revenue, then start or extend the subscription's period;
    money the subscription is not waiting for is refunded automatically."""
    if provider_payment.amount != payment.amount or provider_payment.currency != payment.currency:
        # Never book what the provider did not take; an operator must look at this payment.
        logger.error("payment %s: provider took %s %s", payment.pk, provider_payment.amount, provider_payment.currency)
        payment.last_error = "the provider's amount differs from billy's"
        return
    subscription = payment.subscription
    payment.status = SubscriptionPayment.Status.SUCCEEDED
    payment.succeeded_at = now
    payment.transaction = post_card_movement(
        workspace_id=payment.workspace_id,
        kind=LedgerTransaction.Kind.CARD_PAYMENT,
        amount=payment.amount,
        currency=payment.currency,
        description=f"card payment {payment.pk}",
        source={"subscription_id": str(subscription.pk), "payment_id": str(payment.pk)},
        event=registry.SUBSCRIPTION_PAYMENT_SUCCEEDED.build(
            payment_id=str(payment.pk),
            subscription_id=str(subscription.pk),
            user_id=subscription.user_id,
            plan=subscription.plan.code,
            amount=format_amount(payment.amount),
            currency=payment.currency,
            provider_payment_id=payment.provider_payment_id,
            at=format_timestamp(now),
        ),
        now=now,
    )
    if not periods.is_waiting_for(subscription, payment):
        # The money came in for a subscription that is no longer waiting (canceled, ended, refunded):
        # it is booked above and given back.
        periods.refund_late_payment(subscription, payment, now=now)
    elif subscription.status == Subscription.Status.PENDING:
        periods.start_first_period(subscription, payment, provider_payment, now=now)
    else:
        periods.extend_period(subscription, payment, now=now)


def _fail_payment(payment: SubscriptionPayment, *, reason: str, now: dt.datetime) -> None:
    payment.status = SubscriptionPayment.Status.FAILED
    payment.failure_reason = reason[:128]
    subscription = payment.subscription
    if periods.is_waiting_for(subscription, payment) and subscription.status in periods.LIVE:
        periods.decline_renewal(subscription, payment, now=now)
    elif subscription.status == Subscription.Status.PENDING:
        subscription.status = Subscription.Status.CANCELED
        subscription.ended_at = now
        subscription.updated_at = now
        subscription.save()
        defer_notification(subscription, template="subscription_payment_failed", key=f"payment-failed-{payment.pk}")


def _fail_payment_by_id(payment_id, *, reason: str, now: dt.datetime) -> SubscriptionPayment:
    with transaction.atomic():
        payment = (
            SubscriptionPayment.objects.select_for_update(of=("self", "subscription"))
            .select_related("subscription__plan", "workspace")
            .get(pk=payment_id)
        )
        if payment.status in (SubscriptionPayment.Status.NEW, SubscriptionPayment.Status.PENDING):
            _fail_payment(payment, reason=reason, now=now)
            payment.updated_at = now
            payment.save()
        return payment


def post_card_movement(
    *,
    workspace_id: int,
    kind: str,
    amount: int,
    currency: str,
    description: str,
    source: dict[str, str],
    event: NewEvent,
    now: dt.datetime,
) -> LedgerTransaction:
    """A card payment moves money from provider clearing to revenue; a card refund moves it back."""
    clearing = system_account(workspace_id=workspace_id, kind=Account.Kind.CLEARING, currency=currency, now=now)
    revenue = system_account(workspace_id=workspace_id, kind=Account.Kind.REVENUE, currency=currency, now=now)
    sign = 1 if kind == LedgerTransaction.Kind.CARD_PAYMENT else -1
    return post_movement(
        Movement(
            workspace_id=workspace_id,
            currency=currency,
            kind=kind,
            legs=((revenue.pk, sign * amount), (clearing.pk, -sign * amount)),
            description=description,
            source=source,
            event=event,
        ),
        now=now,
    )
