"""Writes for card subscriptions: subscribe, record what the provider says, refund, expire, grant, notify.

Write first, then call out: the subscription and its payment (or the refund) are committed, with a
job that finishes the provider call, before billy calls the provider with the row's id as the
`Idempotence-Key`. Every answer from the provider, whichever way it arrives (the create call, a
webhook's re-read, the janitor), goes through `record_provider_payment` / `record_provider_refund`,
which lock the row and move it only forward, so a repeat changes nothing and money is posted once.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import uuid
import zoneinfo
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from billy.core.errors import BillyError, InvalidState, UpstreamUnavailable, ValidationFailed
from billy.core.money import format_amount, prorate
from billy.core.tasks import defer
from billy.core.validation import check_text
from billy.events.operations import append_event
from billy.integrations.yookassa import get_payment_provider
from billy.integrations.yookassa.port import (
    PaymentProvider,
    PaymentRequest,
    ProviderNotFound,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    ProviderUnavailable,
    RefundRequest,
    ShopCredentials,
)
from billy.ledger.models import Account, LedgerTransaction
from billy.ledger.operations import post_transaction, system_account
from billy.workspaces.models import Workspace

from .models import Plan, ProviderNotification, Subscription, SubscriptionPayment, SubscriptionRefund

if TYPE_CHECKING:
    from billy.integrations.auth_api.port import AuthApi
    from billy.integrations.notifications.port import Notifier

logger = logging.getLogger(__name__)

# The provider payment's metadata key that carries billy's payment id (how a lost answer is found).
PAYMENT_METADATA_KEY = "billy_payment_id"


class PlanNotFound(BillyError):
    code = "plan_not_found"
    default_message = "No active plan with this code."


class SubscriptionNotFound(BillyError):
    code = "subscription_not_found"
    default_message = "No subscription with this id."


class RefundNotAllowed(BillyError):
    code = "refund_not_allowed"
    default_message = "The plan's refund policy gives nothing back now."


class PaymentProviderNotConfigured(BillyError):
    code = "payment_provider_not_configured"
    default_message = "The workspace has no card payment provider shop configured."


def provider_for(workspace: Workspace) -> PaymentProvider:
    """The workspace's own shop at the provider. Raises PaymentProviderNotConfigured."""
    if not (workspace.yookassa_api_url and workspace.yookassa_shop_id and workspace.yookassa_secret_key):
        raise PaymentProviderNotConfigured(f"Workspace {workspace.name!r} has no payment provider shop configured.")
    return get_payment_provider(
        ShopCredentials(
            api_url=workspace.yookassa_api_url,
            shop_id=workspace.yookassa_shop_id,
            secret_key=workspace.yookassa_secret_key,
        )
    )


def add_period(start: dt.datetime, period: str, *, time_zone: str) -> dt.datetime:
    """The end of a period starting at `start`: the same local time a calendar month or year later
    (clipped to the month's last day), in the workspace's time zone."""
    local = start.astimezone(zoneinfo.ZoneInfo(time_zone))
    months = 12 if period == Plan.Period.YEAR else 1
    year, month = divmod(local.month - 1 + months, 12)
    year, month = local.year + year, month + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(dt.UTC)


def refund_amount(
    *, plan: Plan, paid: int, period_start: dt.datetime, period_end: dt.datetime, now: dt.datetime
) -> int:
    """What the plan's refund policy gives back now. Raises RefundNotAllowed.

    `FULL`: everything paid, within `refund_days` days of the period's start. `PRORATED`: the paid
    amount times unused whole days over the period's days; the day in progress counts as used.
    """
    if plan.refund_policy == Plan.RefundPolicy.FULL:
        if now < period_start + dt.timedelta(days=plan.refund_days):
            return paid
        raise RefundNotAllowed(
            f"Plan {plan.code!r} refunds in full only within {plan.refund_days} days of the period's start.",
            details={"refundable_until": (period_start + dt.timedelta(days=plan.refund_days)).isoformat()},
        )
    total_days = max(1, (period_end - period_start).days)
    unused_days = min(total_days, max(0, (period_end - now).days))
    amount = prorate(paid, unused_days, total_days)
    if amount <= 0:
        raise RefundNotAllowed("Nothing of the period is left unused: there is nothing to refund.")
    return amount


def ensure_plan(
    *,
    workspace: Workspace,
    code: str,
    title: str,
    price: int,
    period: str,
    refund_policy: str,
    refund_days: int,
    now: dt.datetime,
    role: str = "subscriber",
) -> Plan:
    """Create the plan, or keep an existing one as the operator left it."""
    plan, _ = Plan.objects.get_or_create(
        workspace=workspace,
        code=code,
        defaults={
            "title": title,
            "price": price,
            "currency": workspace.currency,
            "period": period,
            "refund_policy": refund_policy,
            "refund_days": refund_days,
            "role": role,
            "created_at": now,
        },
    )
    return plan


# -- subscribe ---------------------------------------------------------------------------------


def _check_return_url(errors: dict[str, list[str]], return_url: str) -> None:
    check_text(errors, "return_url", return_url, max_length=2048)
    try:
        parts = urlsplit(return_url or "")
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = urlsplit("")
    if "return_url" not in errors and (parts.scheme not in ("http", "https") or not parts.netloc):
        errors["return_url"] = ["An absolute http(s) URL the payer is sent back to."]


def check_user_id(user_id: str) -> None:
    errors: dict[str, list[str]] = {}
    check_text(errors, "user_id", user_id, max_length=128)
    if errors:
        raise ValidationFailed(errors)


def _lock_user_plan(workspace_id: int, user_id: str, plan_id: int) -> None:
    """Serialise subscribe calls for one user and plan until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"subscribe:{workspace_id}:{plan_id}:{user_id}"],
        )


def subscribe(
    *, workspace: Workspace, user_id: str, plan_code: str, return_url: str, now: dt.datetime
) -> tuple[Subscription, SubscriptionPayment, bool]:
    """A PENDING subscription with a NEW payment, committed with the job that creates the payment at
    the provider; returns (subscription, payment, created). While a payment for the same user and
    plan is pending, returns that one (created False).

    Raises ValidationFailed, PlanNotFound, PaymentProviderNotConfigured, InvalidState (already active).
    """
    errors: dict[str, list[str]] = {}
    check_text(errors, "user_id", user_id, max_length=128)
    check_text(errors, "plan", plan_code, max_length=64)
    _check_return_url(errors, return_url)
    if errors:
        raise ValidationFailed(errors)
    plan = Plan.objects.filter(workspace=workspace, code=plan_code, is_active=True).first()
    if plan is None:
        raise PlanNotFound(f"No active plan {plan_code!r} in workspace {workspace.name!r}.")
    provider_for(workspace)  # refuse before writing anything when no shop is configured
    with transaction.atomic():
        _lock_user_plan(workspace.pk, user_id, plan.pk)
        current = (
            Subscription.objects.filter(
                workspace=workspace,
                user_id=user_id,
                plan=plan,
                status__in=[Subscription.Status.PENDING, Subscription.Status.ACTIVE],
            )
            .order_by("-created_at")
            .first()
        )
        if current is not None and current.status == Subscription.Status.ACTIVE:
            raise InvalidState(
                f"User {user_id!r} already has an active {plan.code!r} subscription "
                f"until {current.period_end:%Y-%m-%d}.",
                details={"subscription_id": str(current.id), "period_end": current.period_end.isoformat()},
            )
        if current is not None:
            return current, current.latest_payment(), False
        subscription = Subscription.objects.create(
            id=uuid.uuid4(),
            workspace=workspace,
            plan=plan,
            user_id=user_id,
            status=Subscription.Status.PENDING,
            period_start=now,
            period_end=add_period(now, plan.period, time_zone=workspace.time_zone),
            created_at=now,
            updated_at=now,
        )
        payment = SubscriptionPayment.objects.create(
            id=uuid.uuid4(),
            workspace=workspace,
            subscription=subscription,
            amount=plan.price,
            currency=plan.currency,
            description=f"{plan.title} ({workspace.title or workspace.name})"[:128],
            return_url=return_url,
            created_at=now,
            updated_at=now,
        )
        # The outbox: if this process dies before the provider answers, the worker makes the call.
        defer(
            "billy.subscriptions.submit_payment",
            payment_id=str(payment.pk),
            schedule_in={"seconds": int(settings.YOOKASSA_TIMEOUT) + 5},
        )
    return subscription, payment, True


def _payment_request(payment: SubscriptionPayment) -> PaymentRequest:
    # Built only from the stored row: every retry sends the byte-identical body.
    return PaymentRequest(
        amount=payment.amount,
        currency=payment.currency,
        description=payment.description,
        return_url=payment.return_url,
        metadata={PAYMENT_METADATA_KEY: str(payment.pk)},
    )


def _past_key_window(row: SubscriptionPayment | SubscriptionRefund, now: dt.datetime) -> bool:
    """Whether the provider may have forgotten the row's Idempotence-Key (it keeps keys 24 h)."""
    window = dt.timedelta(seconds=settings.BILLY_PAYMENT_KEY_WINDOW_SECONDS)
    return row.first_attempt_at is not None and now - row.first_attempt_at >= window


def _count_attempt(model, pk, *, now: dt.datetime) -> None:
    """Counted before the call: the key window starts at the first call that may have reached it."""
    model.objects.filter(pk=pk).update(
        first_attempt_at=Coalesce(F("first_attempt_at"), Value(now)), attempts=F("attempts") + 1
    )


def _note_attempt(model, pk, *, now: dt.datetime, error: str = "") -> None:
    fields = {"updated_at": now}
    if error:
        fields["last_error"] = error[:512]
    model.objects.filter(pk=pk).update(**fields)


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
    if _past_key_window(payment, now):
        found = _find_payment(provider, payment)
        if found is None:
            return _fail_payment_by_id(payment.pk, reason="not_created_at_provider", now=now)
        return record_provider_payment(payment_id=payment.pk, provider_payment=found, now=now)
    _count_attempt(SubscriptionPayment, payment.pk, now=now)
    try:
        created = provider.create_payment(_payment_request(payment), idempotence_key=str(payment.pk))
    except ProviderRejected as e:
        logger.warning("provider refused payment %s: %s", payment.pk, e)
        return _fail_payment_by_id(payment.pk, reason=f"rejected: {e.code}"[:128], now=now)
    except ProviderOutcomeUnknown as e:
        _note_attempt(SubscriptionPayment, payment.pk, now=now, error=f"outcome unknown: {e}")
        found = _find_payment(provider, payment, quiet=True)
        if found is None:
            raise UpstreamUnavailable(
                "The payment provider did not answer; billy keeps trying.",
                details={"payment_id": str(payment.pk)},
                retry_after=settings.BILLY_RETRY_AFTER_SECONDS,
            ) from e
        return record_provider_payment(payment_id=payment.pk, provider_payment=found, now=now)
    except ProviderUnavailable as e:
        _note_attempt(SubscriptionPayment, payment.pk, now=now, error=f"unavailable: {e}")
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
        _note_attempt(SubscriptionPayment, payment.pk, now=now, error=f"read refused: {e}")
        raise UpstreamUnavailable("The payment provider refused to show the payment; billy keeps trying.") from e
    except (ProviderUnavailable, ProviderOutcomeUnknown) as e:
        _note_attempt(SubscriptionPayment, payment.pk, now=now, error=str(e))
        raise UpstreamUnavailable("The payment provider is unavailable; billy keeps trying.") from e
    recorded = record_provider_payment(payment_id=payment.pk, provider_payment=current, now=now)
    _note_attempt(SubscriptionPayment, payment.pk, now=now)  # re-read again one interval from now
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


def _complete_payment(payment: SubscriptionPayment, provider_payment: ProviderPayment, *, now: dt.datetime) -> None:
    """SUCCEEDED: post provider clearing → revenue, activate the subscription, grant, notify."""
    if provider_payment.amount != payment.amount or provider_payment.currency != payment.currency:
        # Never book what the provider did not take; an operator must look at this payment.
        logger.error("payment %s: provider took %s %s", payment.pk, provider_payment.amount, provider_payment.currency)
        payment.last_error = "the provider's amount differs from billy's"
        return
    ledger_transaction = _post_card_movement(
        workspace_id=payment.workspace_id,
        kind=LedgerTransaction.Kind.CARD_PAYMENT,
        amount=payment.amount,
        currency=payment.currency,
        description=f"card payment {payment.pk}",
        now=now,
    )
    payment.status = SubscriptionPayment.Status.SUCCEEDED
    payment.transaction = ledger_transaction
    payment.succeeded_at = now
    subscription = payment.subscription
    if subscription.status == Subscription.Status.PENDING:
        subscription.status = Subscription.Status.ACTIVE
        subscription.period_start = now
        subscription.period_end = add_period(now, subscription.plan.period, time_zone=payment.workspace.time_zone)
        subscription.activated_at = now
        subscription.updated_at = now
        subscription.save()
        _defer_role_change(subscription, grant=True)
        _defer_notification(subscription, template="subscription_activated", key=f"activated-{subscription.pk}")
    else:
        # The money came in for a subscription that is no longer waiting (e.g. canceled): it is
        # booked and logged for an operator; nothing is activated.
        logger.error("payment %s succeeded for subscription %s in %s", payment.pk, subscription.pk, subscription.status)
    append_event(
        workspace_id=payment.workspace_id,
        type="subscription.payment_succeeded",
        data={
            "payment_id": str(payment.pk),
            "subscription_id": str(subscription.pk),
            "user_id": subscription.user_id,
            "plan": subscription.plan.code,
            "amount": format_amount(payment.amount),
            "currency": payment.currency,
            "provider_payment_id": payment.provider_payment_id,
            "at": now.isoformat(),
        },
        now=now,
    )


def _fail_payment(payment: SubscriptionPayment, *, reason: str, now: dt.datetime) -> None:
    payment.status = SubscriptionPayment.Status.FAILED
    payment.failure_reason = reason[:128]
    subscription = payment.subscription
    if subscription.status == Subscription.Status.PENDING:
        subscription.status = Subscription.Status.CANCELED
        subscription.ended_at = now
        subscription.updated_at = now
        subscription.save()
        _defer_notification(subscription, template="subscription_payment_failed", key=f"payment-failed-{payment.pk}")


def _fail_payment_by_id(payment_id, *, reason: str, now: dt.datetime) -> SubscriptionPayment:
    with transaction.atomic():
        payment = (
            SubscriptionPayment.objects.select_for_update(of=("self", "subscription"))
            .select_related("subscription")
            .get(pk=payment_id)
        )
        if payment.status in (SubscriptionPayment.Status.NEW, SubscriptionPayment.Status.PENDING):
            _fail_payment(payment, reason=reason, now=now)
            payment.updated_at = now
            payment.save()
        return payment


def _post_card_movement(
    *, workspace_id: int, kind: str, amount: int, currency: str, description: str, now: dt.datetime
) -> LedgerTransaction:
    """A card payment moves money from provider clearing to revenue; a card refund moves it back."""
    clearing = system_account(workspace_id=workspace_id, kind=Account.Kind.CLEARING, currency=currency, now=now)
    revenue = system_account(workspace_id=workspace_id, kind=Account.Kind.REVENUE, currency=currency, now=now)
    sign = 1 if kind == LedgerTransaction.Kind.CARD_PAYMENT else -1
    return post_transaction(
        workspace_id=workspace_id,
        kind=kind,
        currency=currency,
        legs=[(revenue.pk, sign * amount), (clearing.pk, -sign * amount)],
        description=description,
        now=now,
    )


# -- refund ------------------------------------------------------------------------------------


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
            status__in=[SubscriptionRefund.Status.PENDING, SubscriptionRefund.Status.SUCCEEDED]
        ).first()
        if existing is not None:
            return existing, False
        if subscription.status != Subscription.Status.ACTIVE:
            raise InvalidState(
                f"Only an active subscription can be refunded; this one is {subscription.status}.",
                details={"status": subscription.status},
            )
        payment = subscription.payments.get(status=SubscriptionPayment.Status.SUCCEEDED)
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
        if _past_key_window(refund, now):
            return _resolve_old_refund(provider, refund, now=now)
        _count_attempt(SubscriptionRefund, refund.pk, now=now)
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
        _note_attempt(SubscriptionRefund, refund.pk, now=now, error=f"read refused: {e}")
        raise UpstreamUnavailable("The payment provider refused to show the refund; billy keeps trying.") from e
    except (ProviderUnavailable, ProviderOutcomeUnknown) as e:
        _note_attempt(SubscriptionRefund, refund.pk, now=now, error=str(e))
        raise UpstreamUnavailable("The payment provider did not answer; billy keeps trying.") from e
    return record_provider_refund(refund_id=refund.pk, provider_refund=created, now=now)


def _resolve_old_refund(
    provider: PaymentProvider, refund: SubscriptionRefund, *, now: dt.datetime, reason: str = "not_created_at_provider"
):
    """The provider's refunds of the payment tell whether ours was made (past the key window, or
    when a retried create is refused)."""
    taken = set(
        SubscriptionRefund.objects.exclude(provider_refund_id=None).values_list("provider_refund_id", flat=True)
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
    refund.transaction = _post_card_movement(
        workspace_id=refund.workspace_id,
        kind=LedgerTransaction.Kind.CARD_REFUND,
        amount=refund.amount,
        currency=refund.currency,
        description=f"card refund {refund.pk}",
        now=now,
    )
    refund.status = SubscriptionRefund.Status.SUCCEEDED
    refund.succeeded_at = now
    subscription = refund.subscription
    was_active = subscription.status == Subscription.Status.ACTIVE
    subscription.status = Subscription.Status.REFUNDED
    subscription.ended_at = subscription.ended_at or now
    subscription.updated_at = now
    subscription.save()
    if was_active:
        _defer_role_change(subscription, grant=False)
    _defer_notification(subscription, template="subscription_refunded", key=f"refunded-{refund.pk}")
    append_event(
        workspace_id=refund.workspace_id,
        type="subscription.refund_succeeded",
        data={
            "refund_id": str(refund.pk),
            "payment_id": str(refund.payment_id),
            "subscription_id": str(subscription.pk),
            "user_id": subscription.user_id,
            "plan": subscription.plan.code,
            "amount": format_amount(refund.amount),
            "currency": refund.currency,
            "provider_refund_id": refund.provider_refund_id,
            "at": now.isoformat(),
        },
        now=now,
    )


def _fail_refund_by_id(refund_id, *, reason: str, now: dt.datetime) -> SubscriptionRefund:
    with transaction.atomic():
        refund = SubscriptionRefund.objects.select_for_update().get(pk=refund_id)
        if refund.status == SubscriptionRefund.Status.PENDING:
            refund.status = SubscriptionRefund.Status.FAILED
            refund.failure_reason = reason[:128]
            refund.updated_at = now
            refund.save()
        return refund


# -- expiry ------------------------------------------------------------------------------------


def expire_subscriptions(*, now: dt.datetime, limit: int = 500) -> int:
    """ACTIVE subscriptions whose period has ended become EXPIRED; each role revoke is deferred with
    it. A second run finds nothing to do."""
    with transaction.atomic():
        ids = list(
            Subscription.objects.select_for_update(skip_locked=True)
            .filter(status=Subscription.Status.ACTIVE, period_end__lte=now)
            .order_by("period_end")
            .values_list("pk", flat=True)[:limit]
        )
        expired = Subscription.objects.filter(pk__in=ids, status=Subscription.Status.ACTIVE).update(
            status=Subscription.Status.EXPIRED, ended_at=now, updated_at=now
        )
        for subscription in Subscription.objects.filter(pk__in=ids).select_related("workspace", "plan"):
            _defer_role_change(subscription, grant=False)
            _defer_notification(subscription, template="subscription_expired", key=f"expired-{subscription.pk}")
    return expired


# -- Auth API and notifications (run by jobs) -------------------------------------------------


def _defer_role_change(subscription: Subscription, *, grant: bool) -> None:
    # One lock per user and role: every grant and revoke of it runs one at a time, in the order
    # they were deferred (a late revoke of an old subscription never undoes a newer grant).
    defer(
        "billy.subscriptions.grant_role" if grant else "billy.subscriptions.revoke_role",
        lock=f"role-{subscription.workspace_id}-{subscription.plan.role}-{subscription.user_id}",
        subscription_id=str(subscription.pk),
    )


def _defer_notification(subscription: Subscription, *, template: str, key: str) -> None:
    defer("billy.subscriptions.notify_user", subscription_id=str(subscription.pk), template=template, key=key)


def grant_role(*, subscription_id: uuid.UUID | str, auth_api: AuthApi, now: dt.datetime) -> bool:
    """Grant the plan's role while the subscription is active; False when it no longer is.
    Raises the Auth API's errors (the job retries)."""
    subscription = Subscription.objects.select_related("workspace", "plan").get(pk=subscription_id)
    if subscription.status != Subscription.Status.ACTIVE:
        return False
    auth_api.grant_role(
        scope=subscription.workspace.name,
        user_id=subscription.user_id,
        role=subscription.plan.role,
        key=f"grant-{subscription.pk}",
    )
    Subscription.objects.filter(pk=subscription.pk).update(role_granted_at=now)
    return True


def revoke_role(*, subscription_id: uuid.UUID | str, auth_api: AuthApi, now: dt.datetime) -> bool:
    """Revoke the plan's role (keyed by the subscription, so a repeat does nothing more), unless
    another active subscription of the user needs the same role. Returns whether it revoked."""
    subscription = Subscription.objects.select_related("workspace", "plan").get(pk=subscription_id)
    still_needed = (
        Subscription.objects.filter(
            workspace_id=subscription.workspace_id,
            user_id=subscription.user_id,
            status=Subscription.Status.ACTIVE,
            plan__role=subscription.plan.role,
        )
        .exclude(pk=subscription.pk)
        .exists()
    )
    if still_needed:
        return False
    auth_api.revoke_role(
        scope=subscription.workspace.name,
        user_id=subscription.user_id,
        role=subscription.plan.role,
        key=f"revoke-{subscription.pk}",
    )
    Subscription.objects.filter(pk=subscription.pk).update(role_revoked_at=now)
    return True


def notify_user(*, subscription_id: uuid.UUID | str, template: str, key: str, notifier: Notifier) -> None:
    """Tell the user what happened (keyed by billy's ids: the service sends each message once)."""
    subscription = Subscription.objects.select_related("workspace", "plan").get(pk=subscription_id)
    payment = subscription.latest_payment()
    refund = subscription.refunds.order_by("-created_at").first()
    params = {
        "subscription_id": str(subscription.pk),
        "plan": subscription.plan.code,
        "plan_title": subscription.plan.title,
        "status": subscription.status,
        "period_start": subscription.period_start.isoformat(),
        "period_end": subscription.period_end.isoformat(),
    }
    if payment is not None:
        params |= {"amount": format_amount(payment.amount), "currency": payment.currency}
        if payment.failure_reason:
            params["failure_reason"] = payment.failure_reason
    if refund is not None and template == "subscription_refunded":
        params["refund_amount"] = format_amount(refund.amount)
    notifier.send(
        key=key, scope=subscription.workspace.name, user_id=subscription.user_id, template=template, params=params
    )


# -- webhooks ----------------------------------------------------------------------------------


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
