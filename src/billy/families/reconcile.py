"""Late card payments: what the card system made after billy gave the call up.

A spending is FAILED, and its reservation released, when its hold left no trace by the call
horizon; a refund is FAILED the same way. The card system may still carry the call out later (a
request stuck in its queue). For `BILLY_CARD_RECONCILE_SECONDS` after they were made, the janitor
reads them back:

- a hold found for a FAILED spending is an orphan: billy does not count it, so it is cancelled at
  the card system (with its own idempotency key) and never counted;
- a refund found for a FAILED refund was made: it is booked through `apply_card_payment`, once.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings

from billy.integrations.cards.port import CardSystem, CardSystemError

from .card_sync import apply_card_payment
from .models import Spending, SpendingRefund

logger = logging.getLogger(__name__)

NOT_HELD = "not_held_by_card_system"
LATE_HOLD_CANCELLED = "late_hold_cancelled"
NOT_REFUNDED = "not_made_by_card_system"


def _since(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(seconds=settings.BILLY_CARD_RECONCILE_SECONDS)


def failed_spendings(*, now: dt.datetime):
    """FAILED spendings still inside the reconciliation window."""
    return Spending.objects.filter(status=Spending.Status.FAILED, failure_reason=NOT_HELD, created_at__gte=_since(now))


def failed_refunds(*, now: dt.datetime):
    """FAILED refunds still inside the reconciliation window."""
    return SpendingRefund.objects.filter(
        status=SpendingRefund.Status.FAILED, failure_reason=NOT_REFUNDED, created_at__gte=_since(now)
    )


def orphan_key(spending: Spending) -> str:
    """The idempotency key of the cancel of a late hold."""
    return f"orphan-{spending.pk}"


def reconcile_spending(spending: Spending, cards: CardSystem, now: dt.datetime) -> None:
    """Cancel at the card system a hold it made for a FAILED spending. Raises CardSystemError when
    the card system cannot be read or does not answer (the next run tries again)."""
    payment = cards.find_payment(key=spending.card_key)
    if payment is None:
        return
    if payment.status == "HELD":
        logger.warning("spending %s: late hold %s at the card system, cancelling it", spending.spending_id, payment.id)
        payment = cards.cancel(payment_id=payment.id, key=orphan_key(spending))
    if payment.status == "CANCELLED":
        Spending.objects.filter(pk=spending.pk, status=Spending.Status.FAILED, failure_reason=NOT_HELD).update(
            failure_reason=LATE_HOLD_CANCELLED, card_payment_id=payment.id, updated_at=now
        )
    else:
        logger.error("spending %s: the card system has its payment %s", spending.spending_id, payment.status)


def reconcile_refund(refund: SpendingRefund, cards: CardSystem, now: dt.datetime) -> None:
    """Book a FAILED refund the card system made after all. Raises CardSystemError when the card
    system cannot be read."""
    spending = refund.spending
    if not spending.card_payment_id:
        return
    payment = cards.get_payment(payment_id=spending.card_payment_id)
    if any(r.key == refund.card_key for r in payment.refunds):
        logger.warning("refund %s: made late by the card system, booking it", refund.refund_id)
        apply_card_payment(spending_pk=spending.pk, payment=payment, now=now)


def reconcile(*, now: dt.datetime, cards: CardSystem, batch: int, skip: set) -> int:
    """Read back a batch of FAILED spendings and refunds in the window (leaving out `skip`, which
    gains those read); how many were read."""
    looked = 0
    for spending in failed_spendings(now=now).exclude(pk__in=skip).order_by("created_at")[:batch]:
        skip.add(spending.pk)
        looked += 1
        try:
            reconcile_spending(spending, cards, now)
        except CardSystemError as e:
            logger.warning("failed spending %s stays to be read back: %s", spending.spending_id, e)
    refunds = failed_refunds(now=now).exclude(pk__in=skip).select_related("spending").order_by("created_at")[:batch]
    for refund in refunds:
        skip.add(refund.pk)
        looked += 1
        try:
            reconcile_refund(refund, cards, now)
        except CardSystemError as e:
            logger.warning("failed refund %s stays to be read back: %s", refund.refund_id, e)
    return looked
