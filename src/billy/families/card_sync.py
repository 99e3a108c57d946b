"""The one function that applies the card payment system's view of a spending to billy's records.

Whichever way billy learns a payment's state (the answer to its own call, a read-back after an
unknown outcome, the janitor), it goes through `apply_card_payment`, which locks the spending and
moves it only forward: a hold confirms a PENDING spending; a clear settles the member's usage and
posts the money once; a cancel releases the reservation once; each refund made with one of billy's
keys restores the headroom and posts the money back once. A repeat changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction

from billy.core.money import format_amount
from billy.core.timestamps import format_timestamp
from billy.events import registry
from billy.integrations.cards.port import CardPayment
from billy.ledger import limits
from billy.ledger.models import Account, LedgerTransaction
from billy.ledger.postings import Movement, post_movement, system_account

from .models import Spending, SpendingRefund

OPEN = (Spending.Status.PENDING, Spending.Status.HELD)


def _post(spending: Spending, *, kind: str, amount: int, source: dict[str, str], event, now: dt.datetime):
    """Family card money: collected by the card system for the workspace (clearing) and earned
    (revenue); a refund moves it back."""
    clearing = system_account(
        workspace_id=spending.workspace_id, kind=Account.Kind.CLEARING, currency=spending.currency, now=now
    )
    revenue = system_account(
        workspace_id=spending.workspace_id, kind=Account.Kind.REVENUE, currency=spending.currency, now=now
    )
    sign = 1 if kind == LedgerTransaction.Kind.FAMILY_SPENDING else -1
    return post_movement(
        Movement(
            workspace_id=spending.workspace_id,
            currency=spending.currency,
            kind=kind,
            legs=((revenue.pk, sign * amount), (clearing.pk, -sign * amount)),
            description=f"family card spending {spending.spending_id}",
            source=source,
            event=event,
        ),
        now=now,
    )


def _settle(spending: Spending, payment: CardPayment, now: dt.datetime) -> None:
    limits.settle(
        limit_id=spending.limit_id,
        frame_start=spending.frame_start,
        held=spending.amount,
        cleared=payment.cleared_amount,
    )
    spending.status = Spending.Status.CLEARED
    spending.cleared_amount = payment.cleared_amount
    if payment.cleared_amount:
        spending.transaction = _post(
            spending,
            kind=LedgerTransaction.Kind.FAMILY_SPENDING,
            amount=payment.cleared_amount,
            source={"family_id": spending.family.family_id, "spending_id": spending.spending_id},
            event=registry.FAMILY_SPENDING_CLEARED.build(
                family_id=spending.family.family_id,
                spending_id=spending.spending_id,
                user_id=spending.user_id,
                amount=format_amount(payment.cleared_amount),
                released=format_amount(spending.amount - payment.cleared_amount),
                currency=spending.currency,
                card_payment_id=payment.id,
                at=format_timestamp(now),
            ),
            now=now,
        )


def _refunds(spending: Spending, payment: CardPayment, now: dt.datetime) -> None:
    done = {r.key for r in payment.refunds}
    # A FAILED refund found made was made late by the card system: it is booked all the same.
    open_refunds = (SpendingRefund.Status.PENDING, SpendingRefund.Status.FAILED)
    for refund in spending.refunds.select_for_update().filter(status__in=open_refunds):
        if refund.card_key not in done:
            continue
        limits.restore(limit_id=spending.limit_id, frame_start=spending.frame_start, amount=refund.amount)
        spending.refunded_amount += refund.amount
        refund.status = SpendingRefund.Status.SUCCEEDED
        refund.transaction = _post(
            spending,
            kind=LedgerTransaction.Kind.FAMILY_REFUND,
            amount=refund.amount,
            source={
                "family_id": spending.family.family_id,
                "spending_id": spending.spending_id,
                "refund_id": refund.refund_id,
            },
            event=registry.FAMILY_SPENDING_REFUNDED.build(
                family_id=spending.family.family_id,
                spending_id=spending.spending_id,
                refund_id=refund.refund_id,
                user_id=spending.user_id,
                amount=format_amount(refund.amount),
                currency=spending.currency,
                card_payment_id=payment.id,
                at=format_timestamp(now),
            ),
            now=now,
        )
        refund.updated_at = now
        refund.save(update_fields=["status", "transaction", "updated_at"])


def apply_card_payment(*, spending_pk: uuid.UUID, payment: CardPayment, now: dt.datetime) -> Spending | None:
    """Record the card system's payment for the spending; None when the spending is gone (a hold
    that did not happen was dropped)."""
    with transaction.atomic():
        spending = (
            Spending.objects.select_for_update(of=("self",)).select_related("family").filter(pk=spending_pk).first()
        )
        if spending is None:
            return None
        if spending.status == Spending.Status.PENDING and payment.status in ("HELD", "CLEARED", "CANCELLED"):
            spending.status = Spending.Status.HELD
            spending.card_payment_id = payment.id
        if spending.status == Spending.Status.HELD and payment.status == "CLEARED":
            _settle(spending, payment, now)
        elif spending.status == Spending.Status.HELD and payment.status == "CANCELLED":
            limits.release(limit_id=spending.limit_id, frame_start=spending.frame_start, amount=spending.amount)
            spending.status = Spending.Status.CANCELLED
            spending.cancel_reason = spending.cancel_reason or Spending.CancelReason.REQUESTED
        if spending.status == Spending.Status.CLEARED and payment.refunds:
            _refunds(spending, payment, now)
        spending.updated_at = now
        spending.save()
        return spending


def drop_spending(*, spending_pk: uuid.UUID) -> None:
    """The hold did not happen (refused, or the card system was not reached): the reservation is
    released and the spending leaves no trace, so the same spending_id may be tried again."""
    with transaction.atomic():
        spending = Spending.objects.select_for_update().filter(pk=spending_pk, status=Spending.Status.PENDING).first()
        if spending is None:
            return
        limits.release(limit_id=spending.limit_id, frame_start=spending.frame_start, amount=spending.amount)
        spending.delete()


def fail_spending(*, spending_pk: uuid.UUID, reason: str, now: dt.datetime) -> None:
    """An unknown outcome that left no trace at the card system past the call horizon: it did not
    happen. The reservation is released; the spending stays, FAILED, for whoever asks about it."""
    with transaction.atomic():
        spending = Spending.objects.select_for_update().filter(pk=spending_pk, status=Spending.Status.PENDING).first()
        if spending is None:
            return
        limits.release(limit_id=spending.limit_id, frame_start=spending.frame_start, amount=spending.amount)
        spending.status = Spending.Status.FAILED
        spending.failure_reason = reason[:128]
        spending.updated_at = now
        spending.save(update_fields=["status", "failure_reason", "updated_at"])
