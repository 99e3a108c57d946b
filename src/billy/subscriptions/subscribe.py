"""Subscribe a user to a plan: a PENDING subscription and its payment, then the provider's payment page.

Write first, then call out: the subscription and its NEW payment are committed with the job that
creates the payment at the provider, so the provider is asked even if this process dies; the
caller may also submit it at once (`subscribe_with_key` does) to answer with the payment page.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from billy.core.errors import BillyError, InvalidState, ValidationFailed
from billy.core.locks import transaction_lock
from billy.core.tasks import defer
from billy.core.timestamps import format_timestamp
from billy.core.validation import check_text
from billy.idempotency.operations import Answer, answer_once, claim_idempotency_key, remember_resource
from billy.workspaces.models import Workspace

from .models import Plan, Subscription, SubscriptionPayment
from .payments import submit_payment
from .plans import add_period
from .provider import provider_for
from .queries import get_subscription

# The namespace of the transaction advisory lock of one user's subscribe calls to a plan (billy.core.locks).
_SUBSCRIBE_LOCK = 0x73756273  # "subs"


class PlanNotFound(BillyError):
    code = "plan_not_found"
    default_message = "No active plan with this code."


def _check_return_url(errors: dict[str, list[str]], return_url: str) -> None:
    check_text(errors, "return_url", return_url, max_length=2048)
    try:
        parts = urlsplit(return_url or "")
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = urlsplit("")
    if "return_url" not in errors and (parts.scheme not in ("http", "https") or not parts.netloc):
        errors["return_url"] = ["An absolute http(s) URL the payer is sent back to."]


def _lock_user_plan(workspace_id: int, user_id: str, plan_id: int) -> None:
    """Serialise subscribe calls for one user and plan until the transaction ends."""
    transaction_lock(_SUBSCRIBE_LOCK, f"{workspace_id}:{plan_id}:{user_id}")


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
                details={"subscription_id": str(current.id), "period_end": format_timestamp(current.period_end)},
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


def subscribe_with_key(
    *,
    workspace: Workspace,
    user_id: str,
    plan_code: str,
    return_url: str,
    key: str | None,
    answer: Callable[[Subscription, bool], Answer],
    now: dt.datetime,
) -> Answer:
    """Subscribe once per Idempotency-Key and ask the provider for the payment page at once.

    The key's first answer is replayed as it was. A key whose first call created the subscription
    but did not get to answer (e.g. the provider was down) resumes that subscription, whatever
    happened to it meanwhile. A payment the provider has not confirmed yet is submitted now (the
    deferred job would otherwise do it), and the subscription is read again for the answer.

    `answer(subscription, created)` is the transport's answer (status and body), kept for the key.
    Raises what claim_idempotency_key (ValidationFailed, IdempotencyConflict, KeyInProgress), subscribe and
    submit_payment raise (UpstreamUnavailable: billy keeps trying; a retry with the key resumes).
    """
    with claim_idempotency_key(
        workspace_id=workspace.pk,
        operation="subscribe",
        key=key,
        request={"user_id": user_id, "plan": plan_code, "return_url": return_url},
        now=now,
    ) as record:

        def run() -> Answer:
            if record.resource_id:
                subscription = get_subscription(workspace=workspace, subscription_id=record.resource_id)
                payment, created = subscription.latest_payment(), True
            else:
                subscription, payment, created = subscribe(
                    workspace=workspace, user_id=user_id, plan_code=plan_code, return_url=return_url, now=now
                )
                if created:
                    remember_resource(record=record, resource_id=str(subscription.pk))
            if payment.status == SubscriptionPayment.Status.NEW:
                submit_payment(payment_id=payment.pk, now=now)
            current = get_subscription(workspace=workspace, subscription_id=str(subscription.pk))
            return answer(current, created)

        return answer_once(record=record, run=run)
