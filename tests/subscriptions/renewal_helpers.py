"""Helpers for renewal tests: a subscription paid on the provider's page with a given card, at a
pinned time, and the counts every renewal test checks."""

from __future__ import annotations

import datetime as dt

from billy.events.models import Event
from billy.integrations.yookassa.emulator import DEFAULT_CARD
from billy.ledger.models import LedgerTransaction
from billy.subscriptions.models import Subscription
from billy.subscriptions.payments import recheck_payment, submit_payment
from billy.subscriptions.subscribe import subscribe

from .conftest import run_jobs

RETURN_URL = "https://cinema.example/back"


def paid_subscription(
    cinema, yookassa, *, now: dt.datetime, card: str = DEFAULT_CARD, user_id: str = "user-1"
) -> Subscription:
    """Subscribed at `now`, paid on the page with `card` (which the provider saves), jobs run."""
    subscription, payment, _ = subscribe(
        workspace=cinema, user_id=user_id, plan_code="monthly", return_url=RETURN_URL, now=now
    )
    payment = submit_payment(payment_id=payment.pk, now=now)
    yookassa.pay(payment.provider_payment_id, card)
    recheck_payment(payment_id=payment.pk, now=now)
    run_jobs()
    return Subscription.objects.get(pk=subscription.pk)


def succeeded_at_provider(yookassa) -> list[dict]:
    return [p for p in yookassa.payments() if p["status"] == "succeeded"]


def card_payments() -> int:
    return LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.CARD_PAYMENT).count()


def payment_events() -> int:
    return Event.objects.filter(type="subscription.payment_succeeded").count()


def templates(notifications, user_id: str = "user-1") -> list[str]:
    return [n["template"] for n in notifications.notifications(user_id=user_id)]
