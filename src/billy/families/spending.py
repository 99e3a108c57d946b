"""Spending on the family card: spend (hold), clear, cancel, refund, and the janitor's expiry.

Write first, then call out: a spending is reserved against the member's limit and committed,
PENDING, before the card system is asked to hold it with the spending's own key. Then:

- the hold is made → HELD;
- the card system refuses it, or cannot be reached (nothing happened) → the reservation is
  released and the spending dropped (422 `card_declined` / 503): the same spending_id may come again;
- the outcome is unknown (a timeout, a 500) → the payment is read back by the key: found, it is
  adopted; not found, the spending stays PENDING (503) until a repeat or the janitor reads it back
  again, and past `BILLY_CARD_CALL_HORIZON_SECONDS` without a trace it is FAILED and released.

Clear and cancel write their intent on the spending first, then call with keys derived from it;
every answer goes through `card_sync.apply_card_payment`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum

from billy.core.errors import BillyError, IdempotencyConflict, InvalidState, UpstreamUnavailable, ValidationFailed
from billy.core.validation import check_id, check_text
from billy.integrations.cards import get_card_system
from billy.integrations.cards.port import (
    CardPayment,
    CardSystem,
    CardSystemError,
    CardSystemOutcomeUnknown,
    CardSystemRejected,
    CardSystemUnavailable,
)
from billy.ledger import limits
from billy.workspaces.models import Workspace

from . import reconcile
from .card_sync import apply_card_payment, drop_spending, fail_spending
from .membership import FamilyNotFound, MemberNotFound
from .models import Family, Member, Spending, SpendingRefund

logger = logging.getLogger(__name__)


class SpendingNotFound(BillyError):
    code = "spending_not_found"
    default_message = "No spending with this spending_id."


class CardDeclined(BillyError):
    code = "card_declined"
    default_message = "The card payment system declined the family card."


class RefundExceedsSpending(BillyError):
    code = "refund_exceeds_charge"
    default_message = "Refunds would exceed what was cleared."


def _unavailable(message: str, **details) -> UpstreamUnavailable:
    return UpstreamUnavailable(message, details=details, retry_after=settings.BILLY_RETRY_AFTER_SECONDS)


def _past_horizon(at: dt.datetime, now: dt.datetime) -> bool:
    return now - at >= dt.timedelta(seconds=settings.BILLY_CARD_CALL_HORIZON_SECONDS)


@dataclasses.dataclass(frozen=True)
class SpendRequest:
    spending_id: str
    user_id: str
    amount: int


def get_spending(*, workspace: Workspace, spending_id: str) -> Spending:
    spending = (
        Spending.objects.select_related("family")
        .prefetch_related("refunds")
        .filter(workspace=workspace, spending_id=spending_id)
        .first()
    )
    if spending is None:
        raise SpendingNotFound(details={"spending_id": spending_id[:128]})
    return spending


# -- spend ----------------------------------------------------------------------------------------


def spend(
    *, workspace: Workspace, family_id: str, request: SpendRequest, now: dt.datetime, cards: CardSystem | None = None
) -> tuple[Spending, bool]:
    """Hold `amount` on the family card for the member, within the member's limit; (spending,
    created). The same spending_id with the same request answers the spending as it is now (a
    PENDING one is resolved first); with another, IdempotencyConflict. Raises ValidationFailed,
    FamilyNotFound, MemberNotFound, InvalidState (no family card), LimitExceeded, CardDeclined,
    UpstreamUnavailable."""
    errors: dict[str, list[str]] = {}
    check_id(errors, "spending_id", request.spending_id)
    check_text(errors, "user_id", request.user_id, max_length=128)
    if request.amount <= 0:
        errors["amount"] = ["Greater than zero."]
    if errors:
        raise ValidationFailed(errors)
    cards = cards or get_card_system()
    for _ in range(3):
        existing = (
            Spending.objects.select_related("family")
            .filter(workspace=workspace, spending_id=request.spending_id)
            .first()
        )
        if existing is not None:
            break
        try:
            spending = _reserve(workspace=workspace, family_id=family_id, request=request, now=now)
        except IntegrityError:  # the same spending_id, sent at once: the other call made it (or dropped it)
            continue
        return _hold(spending, cards, now), True
    else:
        raise _unavailable("The same spending_id is being tried at once; retry.", spending_id=request.spending_id)
    if (existing.family.family_id, existing.user_id, existing.amount) != (family_id, request.user_id, request.amount):
        raise IdempotencyConflict(details={"spending_id": request.spending_id})
    if existing.status == Spending.Status.PENDING:
        return resolve_spending(spending_pk=existing.pk, now=now, cards=cards, answer=True), False
    return get_spending(workspace=workspace, spending_id=request.spending_id), False


def _reserve(*, workspace: Workspace, family_id: str, request: SpendRequest, now: dt.datetime) -> Spending:
    with transaction.atomic():
        family = Family.objects.filter(workspace=workspace, family_id=family_id, is_active=True).first()
        if family is None:
            raise FamilyNotFound(details={"family_id": family_id[:128]})
        member = Member.objects.filter(family=family, user_id=request.user_id).first()
        if member is None:
            raise MemberNotFound(details={"user_id": request.user_id})
        if not family.payment_method_id:
            raise InvalidState("The family has no card yet: the owner sets it with PUT .../payment.")
        frame_start, _ = limits.frame_of(now, time_zone=workspace.time_zone)
        # The row first: a concurrent call with the same spending_id waits on it here and then
        # answers this spending, instead of being measured against the limit as a second spending.
        spending = Spending.objects.create(
            workspace=workspace,
            family=family,
            spending_id=request.spending_id,
            user_id=request.user_id,
            limit_id=member.limit_id,
            frame_start=frame_start,
            card_id=family.payment_method_id,
            amount=request.amount,
            currency=workspace.currency,
            hold_expires_at=now + dt.timedelta(seconds=settings.BILLY_FAMILY_HOLD_TTL_SECONDS),
            created_at=now,
            updated_at=now,
        )
        limits.reserve(limit_id=member.limit_id, frame_start=frame_start, amount=request.amount)
    return spending


def _hold(spending: Spending, cards: CardSystem, now: dt.datetime) -> Spending:
    try:
        payment = cards.hold(
            card_id=spending.card_id,
            uid=spending.user_id,
            amount=spending.amount,
            currency=spending.currency,
            key=spending.card_key,
        )
    except CardSystemRejected as e:
        drop_spending(spending_pk=spending.pk)
        raise CardDeclined(details={"card_code": e.code}) from e
    except CardSystemUnavailable as e:
        drop_spending(spending_pk=spending.pk)
        raise _unavailable("The card payment system is unavailable; nothing was held, retry later.") from e
    except CardSystemOutcomeUnknown as e:
        logger.warning("hold of spending %s: outcome unknown, reading it back: %s", spending.spending_id, e)
        return resolve_spending(spending_pk=spending.pk, now=now, cards=cards, answer=True)
    return _applied(spending.pk, payment, now)


def _applied(spending_pk: uuid.UUID, payment: CardPayment, now: dt.datetime) -> Spending:
    spending = apply_card_payment(spending_pk=spending_pk, payment=payment, now=now)
    assert spending is not None  # a spending with a payment is never dropped
    return Spending.objects.select_related("family").prefetch_related("refunds").get(pk=spending.pk)


def _read_back(cards: CardSystem, spending: Spending) -> CardPayment | None:
    """The card system's payment of the spending (by its id, else by its hold's key); None when it
    has none; UpstreamUnavailable when it cannot say."""
    try:
        if spending.card_payment_id:
            return cards.get_payment(payment_id=spending.card_payment_id)
        return cards.find_payment(key=spending.card_key)
    except CardSystemError as e:
        raise _unavailable(
            "The card payment system could not be read; billy resolves the spending later.",
            spending_id=spending.spending_id,
        ) from e


def resolve_spending(
    *, spending_pk: uuid.UUID, now: dt.datetime, cards: CardSystem | None = None, answer: bool = False
) -> Spending | None:
    """Read a PENDING spending back from the card system: adopt the hold it finds; with none past
    the call horizon, fail it and release the reservation. With `answer`, a spending still unknown
    is UpstreamUnavailable (the caller's 503)."""
    cards = cards or get_card_system()
    spending = Spending.objects.select_related("family").filter(pk=spending_pk).first()
    if spending is None:
        return _gone(spending_pk, answer)
    if spending.status == Spending.Status.PENDING:
        payment = _read_back(cards, spending)
        if payment is not None:
            return _applied(spending.pk, payment, now)
        if _past_horizon(spending.created_at, now):
            fail_spending(spending_pk=spending.pk, reason=reconcile.NOT_HELD, now=now)
        elif answer:
            raise _unavailable(
                "The card payment system did not confirm the hold yet; retry with the same spending_id.",
                spending_id=spending.spending_id,
            )
    found = Spending.objects.select_related("family").prefetch_related("refunds").filter(pk=spending.pk).first()
    return found if found is not None else _gone(spending_pk, answer)


def _gone(spending_pk: uuid.UUID, answer: bool) -> None:
    """A PENDING spending dropped meanwhile by the call that made it (its hold did not happen)."""
    if answer:
        raise _unavailable("The hold did not happen; the same spending_id may be tried again.")


# -- clear and cancel -----------------------------------------------------------------------------


def _open_spending(workspace: Workspace, spending_id: str, now: dt.datetime, cards: CardSystem) -> Spending:
    spending = get_spending(workspace=workspace, spending_id=spending_id)
    if spending.status == Spending.Status.PENDING:
        spending = resolve_spending(spending_pk=spending.pk, now=now, cards=cards, answer=True)
    return spending


def _drive(spending: Spending, cards: CardSystem, call, now: dt.datetime) -> Spending:
    """Make the card call the spending's written intent asks for, and record what the card system says."""
    try:
        payment = call()
    except CardSystemRejected as e:
        # Refused: the payment moved on without billy (cancelled, cleared): record what it is now.
        logger.warning("card call for spending %s refused: %s", spending.spending_id, e)
        payment = _read_back(cards, spending)
    except (CardSystemUnavailable, CardSystemOutcomeUnknown) as e:
        payment = _read_back(cards, spending)
        result = _applied(spending.pk, payment, now) if payment else spending
        if result.status == Spending.Status.HELD:
            raise _unavailable(
                "The card payment system did not answer; retry with the same arguments.",
                spending_id=spending.spending_id,
            ) from e
        return result
    return _applied(spending.pk, payment, now) if payment else spending


def clear_spending(
    *, workspace: Workspace, spending_id: str, amount: int | None, now: dt.datetime, cards: CardSystem | None = None
) -> Spending:
    """Take `amount` (default: all that is held) of a held spending; the rest is released. A repeat
    with the same amount answers the spending as it is. Raises SpendingNotFound, ValidationFailed
    (more than held), InvalidState, UpstreamUnavailable."""
    cards = cards or get_card_system()
    spending = _open_spending(workspace, spending_id, now, cards)
    wanted = spending.amount if amount is None else amount
    if wanted <= 0 or wanted > spending.amount:
        raise ValidationFailed({"amount": ["Greater than zero and at most the held amount."]})
    if spending.status == Spending.Status.CLEARED and spending.cleared_amount == wanted:
        return spending
    with transaction.atomic():
        locked = Spending.objects.select_for_update().get(pk=spending.pk)
        if locked.status != Spending.Status.HELD or locked.cancel_reason:
            raise InvalidState(f"The spending is {locked.status}.", details={"status": locked.status})
        if locked.clear_amount is not None and locked.clear_amount != wanted:
            raise InvalidState("A clear of another amount is under way.", details={"status": locked.status})
        if locked.clear_amount is None and locked.hold_expires_at <= now:
            raise InvalidState("The hold has expired.", details={"status": locked.status})
        locked.clear_amount = wanted
        locked.updated_at = now
        locked.save(update_fields=["clear_amount", "updated_at"])
    return _drive(
        spending,
        cards,
        lambda: cards.clear(payment_id=spending.card_payment_id, amount=wanted, key=f"clear-{spending.pk}"),
        now,
    )


def cancel_spending(
    *,
    workspace: Workspace,
    spending_id: str,
    now: dt.datetime,
    reason: str = Spending.CancelReason.REQUESTED,
    cards: CardSystem | None = None,
) -> Spending:
    """Release a held spending. A repeat answers the spending as it is. Raises SpendingNotFound,
    InvalidState, UpstreamUnavailable."""
    cards = cards or get_card_system()
    spending = _open_spending(workspace, spending_id, now, cards)
    if spending.status == Spending.Status.CANCELLED:
        return spending
    with transaction.atomic():
        locked = Spending.objects.select_for_update().get(pk=spending.pk)
        if locked.status != Spending.Status.HELD or locked.clear_amount is not None:
            raise InvalidState(f"The spending is {locked.status}.", details={"status": locked.status})
        if not locked.cancel_reason:
            locked.cancel_reason = reason
            locked.updated_at = now
            locked.save(update_fields=["cancel_reason", "updated_at"])
    return _drive(
        spending, cards, lambda: cards.cancel(payment_id=spending.card_payment_id, key=f"cancel-{spending.pk}"), now
    )


# -- refunds --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RefundRequest:
    refund_id: str
    amount: int | None  # None: all that is left


def refund_spending(
    *,
    workspace: Workspace,
    spending_id: str,
    request: RefundRequest,
    now: dt.datetime,
    cards: CardSystem | None = None,
) -> tuple[SpendingRefund, bool]:
    """Give back part or all of a cleared spending to the card; the member's headroom in the
    spending's frame comes back with it. (refund, created). Raises SpendingNotFound,
    ValidationFailed, InvalidState, RefundExceedsSpending, IdempotencyConflict, UpstreamUnavailable."""
    errors: dict[str, list[str]] = {}
    check_id(errors, "refund_id", request.refund_id)
    if request.amount is not None and request.amount <= 0:
        errors["amount"] = ["Greater than zero."]
    if errors:
        raise ValidationFailed(errors)
    cards = cards or get_card_system()
    spending = get_spending(workspace=workspace, spending_id=spending_id)
    existing = SpendingRefund.objects.filter(workspace=workspace, refund_id=request.refund_id).first()
    created = existing is None
    if existing is not None:
        if existing.spending_id != spending.pk or request.amount != existing.requested_amount:
            raise IdempotencyConflict(details={"refund_id": request.refund_id})
        refund = existing
    else:
        refund = _write_refund(workspace, spending, request, now)
    if refund.status == SpendingRefund.Status.PENDING:
        refund = _drive_refund(spending, refund, cards, now)
    return refund, created


def _write_refund(workspace: Workspace, spending: Spending, request: RefundRequest, now: dt.datetime) -> SpendingRefund:
    with transaction.atomic():
        locked = Spending.objects.select_for_update().get(pk=spending.pk)
        if locked.status != Spending.Status.CLEARED:
            raise InvalidState(f"The spending is {locked.status}.", details={"status": locked.status})
        taken = (
            locked.refunds.filter(~Q(status=SpendingRefund.Status.FAILED)).aggregate(total=Sum("amount"))["total"] or 0
        )
        left = locked.cleared_amount - taken
        amount = left if request.amount is None else request.amount
        if amount <= 0 or amount > left:
            raise RefundExceedsSpending(details={"left": left})
        try:
            with transaction.atomic():
                return SpendingRefund.objects.create(
                    workspace=workspace,
                    spending=locked,
                    refund_id=request.refund_id,
                    amount=amount,
                    requested_amount=request.amount,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError as e:
            raise IdempotencyConflict(details={"refund_id": request.refund_id}) from e


def _drive_refund(spending: Spending, refund: SpendingRefund, cards: CardSystem, now: dt.datetime) -> SpendingRefund:
    try:
        payment = cards.refund(payment_id=spending.card_payment_id, amount=refund.amount, key=refund.card_key)
    except CardSystemRejected as e:
        _fail_refund(refund, f"rejected: {e.code}", now)
        return SpendingRefund.objects.get(pk=refund.pk)
    except (CardSystemUnavailable, CardSystemOutcomeUnknown) as e:
        payment = _read_back(cards, spending)
        made = payment is not None and any(r.key == refund.card_key for r in payment.refunds)
        if not made:
            if _past_horizon(refund.created_at, now):
                _fail_refund(refund, reconcile.NOT_REFUNDED, now)
                return SpendingRefund.objects.get(pk=refund.pk)
            raise _unavailable(
                "The card payment system did not answer; retry with the same refund_id.", refund_id=refund.refund_id
            ) from e
    apply_card_payment(spending_pk=spending.pk, payment=payment, now=now)
    return SpendingRefund.objects.get(pk=refund.pk)


def _fail_refund(refund: SpendingRefund, reason: str, now: dt.datetime) -> None:
    SpendingRefund.objects.filter(pk=refund.pk, status=SpendingRefund.Status.PENDING).update(
        status=SpendingRefund.Status.FAILED, failure_reason=reason[:128], updated_at=now
    )


# -- the janitor ----------------------------------------------------------------------------------


def expire_spendings(
    *, now: dt.datetime, batch: int = 100, cards: CardSystem | None = None, skip: set | None = None
) -> int:
    """Holds past their TTL are released at the card system (or cleared, when a clear was under
    way); PENDING spendings and refunds past the call horizon are read back; FAILED ones in the
    reconciliation window are read back for late card payments (`reconcile`). Rows in `skip` are
    left out, and those looked at are added to it, so a run goes through each row once. Returns
    how many were looked at; a card system that does not answer leaves them to the next run."""
    cards = cards or get_card_system()
    skip = set() if skip is None else skip
    horizon = now - dt.timedelta(seconds=settings.BILLY_CARD_CALL_HORIZON_SECONDS)
    due = list(
        Spending.objects.filter(
            Q(status=Spending.Status.HELD, hold_expires_at__lte=now)
            | Q(status=Spending.Status.HELD, updated_at__lte=horizon)
            & (Q(clear_amount__isnull=False) | ~Q(cancel_reason=""))
            | Q(status=Spending.Status.PENDING, created_at__lte=horizon)
        )
        .exclude(pk__in=skip)
        .select_related("workspace")
        .order_by("hold_expires_at")[:batch]
    )
    for spending in due:
        skip.add(spending.pk)
        try:
            if spending.status == Spending.Status.PENDING:
                resolve_spending(spending_pk=spending.pk, now=now, cards=cards)
            elif spending.clear_amount is not None:
                clear_spending(
                    workspace=spending.workspace,
                    spending_id=spending.spending_id,
                    amount=spending.clear_amount,
                    now=now,
                    cards=cards,
                )
            else:
                cancel_spending(
                    workspace=spending.workspace,
                    spending_id=spending.spending_id,
                    now=now,
                    reason=spending.cancel_reason or Spending.CancelReason.EXPIRED,
                    cards=cards,
                )
        except UpstreamUnavailable as e:
            logger.warning("spending %s stays open for the next run: %s", spending.spending_id, e)
        except InvalidState as e:
            logger.info("spending %s moved on meanwhile: %s", spending.spending_id, e)
    stuck = list(
        SpendingRefund.objects.filter(status=SpendingRefund.Status.PENDING, created_at__lte=horizon)
        .exclude(pk__in=skip)
        .select_related("spending")
        .order_by("created_at")[:batch]
    )
    for refund in stuck:
        skip.add(refund.pk)
        try:
            _drive_refund(refund.spending, refund, cards, now)
        except UpstreamUnavailable as e:
            logger.warning("refund %s stays open for the next run: %s", refund.refund_id, e)
    return len(due) + len(stuck) + reconcile.reconcile(now=now, cards=cards, batch=batch, skip=skip)
