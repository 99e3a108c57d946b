"""Reads: families, a member's usage and check_available, a user's payment methods."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.conf import settings
from django.db.models import Prefetch

from billy.core.errors import UpstreamUnavailable, ValidationFailed
from billy.integrations.cards import get_card_system
from billy.integrations.cards.port import Card, CardSystem, CardSystemError, CardSystemRejected
from billy.integrations.identity import get_identity_provider
from billy.ledger import limits
from billy.ledger.models import SpendingLimit
from billy.workspaces.models import Workspace

from . import migration_trigger, passport
from .errors import FamilyNotFound, MemberNotFound
from .models import Family, Member, Spending
from .spending import SpendingNotFound

_MEMBERS = Prefetch("members", queryset=Member.objects.select_related("limit").order_by("id"))


def _shown(family: Family) -> Family:
    """The family with `shown_members`: billy's members, or a migrated family's from the identity
    provider (IdentityProviderUnavailable when it cannot be read)."""
    family.shown_members = passport.member_views(family)
    return family


def get_family(*, workspace: Workspace, family_id: str) -> Family:
    """The active family with the members a read shows (`shown_members`); FamilyNotFound otherwise."""
    family = (
        Family.objects.prefetch_related(_MEMBERS)
        .filter(workspace=workspace, family_id=family_id, is_active=True)
        .first()
    )
    if family is None:
        raise FamilyNotFound(details={"family_id": family_id[:128]})
    return _shown(family)


def get_any_family(*, workspace: Workspace, family_id: str) -> Family:
    """The family, closed ones too (the answer to its deletion)."""
    family = Family.objects.prefetch_related(_MEMBERS).filter(workspace=workspace, family_id=family_id).first()
    if family is None:
        raise FamilyNotFound(details={"family_id": family_id[:128]})
    return _shown(family)


def list_user_families(*, workspace: Workspace, user_id: str, shown: bool = True) -> list[tuple[Family, str]]:
    """The families the user belongs to (at most one today), with the user's role in each (and,
    when `shown`, the members a read shows)."""
    members = Member.objects.filter(workspace=workspace, user_id=user_id, family__is_active=True).select_related(
        "family"
    )
    families = {m.family_id: m.role for m in members}
    found = Family.objects.prefetch_related(_MEMBERS).filter(pk__in=families).order_by("-accepted_at")
    return [(_shown(f) if shown else f, families[f.pk]) for f in found]


def get_family_spending(*, workspace: Workspace, family_id: str, spending_id: str) -> Spending:
    spending = (
        Spending.objects.select_related("family")
        .prefetch_related("refunds")
        .filter(workspace=workspace, family__family_id=family_id, spending_id=spending_id)
        .first()
    )
    if spending is None:
        raise SpendingNotFound(details={"spending_id": spending_id[:128]})
    return spending


@dataclasses.dataclass(frozen=True)
class Availability:
    available: bool
    usage: limits.Usage
    frame: str
    reset_at: dt.datetime


def member_usage(*, family: Family, member: Member, now: dt.datetime) -> tuple[limits.Usage, dt.datetime]:
    """The member's limit and usage in the frame holding `now`, and when the next frame starts."""
    start, end = limits.frame_of(now, time_zone=family.workspace.time_zone)
    return limits.usage(limit_id=member.limit_id, frame_start=start), end


def _unavailable(e: CardSystemError) -> UpstreamUnavailable:
    return UpstreamUnavailable(
        "The card payment system is unavailable; retry later.", retry_after=settings.BILLY_RETRY_AFTER_SECONDS
    )


# The card system does not know the family card, or the member on it, yet: the hand-over (a job
# deferred with the change) has not run. billy's own limit, which every spending is reserved
# against as well, answers until it has.
_NOT_HANDED_OVER = frozenset({"family_not_found", "member_not_found"})


def _card_system_usage(family: Family, user_id: str, cards: CardSystem) -> limits.Usage | None:
    """A migrated family's member's limit and usage, as the card payment system keeps them; None
    while the family card (or this member) is not handed over yet."""
    try:
        found = cards.family_limit(family_id=family.passport_family_id, uid=user_id)
    except CardSystemRejected as e:
        if e.code in _NOT_HANDED_OVER:
            return None
        raise _unavailable(e) from e
    except CardSystemError as e:
        raise _unavailable(e) from e
    return limits.Usage(cap=found.limit, held=0, spent=found.usage)


def check_available(
    *,
    workspace: Workspace,
    family_id: str,
    user_id: str,
    amount: int,
    now: dt.datetime,
    cards: CardSystem | None = None,
) -> Availability:
    """Whether the member may spend `amount` now: the family has a card and the amount fits in what
    is left of the member's limit this frame (always, for an unlimited member); for a migrated
    family, the limit and usage are the card payment system's. Raises ValidationFailed,
    FamilyNotFound, MemberNotFound, UpstreamUnavailable."""
    if amount <= 0:
        raise ValidationFailed({"amount": ["Greater than zero."]})
    family = (
        Family.objects.prefetch_related(_MEMBERS)
        .filter(workspace=workspace, family_id=family_id, is_active=True)
        .first()
    )
    if family is None:
        raise FamilyNotFound(details={"family_id": family_id[:128]})
    family.workspace = workspace
    member = next((m for m in family.members.all() if m.user_id == user_id), None)
    if member is None:
        raise MemberNotFound(details={"user_id": user_id[:128]})
    usage, reset_at = member_usage(family=family, member=member, now=now)
    if family.passport_account and family.payment_method_id:
        usage = _card_system_usage(family, user_id, cards or get_card_system()) or usage
    return Availability(
        available=bool(family.payment_method_id) and usage.fits(amount),
        usage=usage,
        frame=SpendingLimit.Frame.MONTH,
        reset_at=reset_at,
    )


@dataclasses.dataclass(frozen=True)
class FamilyCard:
    card_id: str
    number: str | None
    family: Family
    owner: str
    usage: limits.Usage
    frame: str


@dataclasses.dataclass(frozen=True)
class PaymentMethods:
    own_cards: list[Card]
    families: list[tuple[Family, str]]
    family_cards: list[FamilyCard]


def payment_methods(
    *, workspace: Workspace, user_id: str, now: dt.datetime, cards: CardSystem | None = None
) -> PaymentMethods:
    """The user's own cards at the card system (a card paid by someone else is not the user's),
    the family accounts the user belongs to, and each one's card with the user's usage and limit.
    Raises UpstreamUnavailable when the card system cannot be read."""
    cards = cards or get_card_system()
    try:
        bound = cards.list_payment_methods(uid=user_id)
    except CardSystemError as e:
        raise _unavailable(e) from e
    numbers = {c.id: c.number for c in bound}
    shared = {c.family.family_id: c for c in bound if c.family is not None}
    families = list_user_families(workspace=workspace, user_id=user_id, shown=False)
    family_cards = []
    for family, _role in families:
        family.workspace = workspace
        member = next(m for m in family.members.all() if m.user_id == user_id)
        if family.passport_account:
            # The card payment system lists the family card for each member, with the limit and usage it keeps.
            card = shared.get(family.passport_family_id)
            if card is not None:
                family_cards.append(
                    FamilyCard(
                        card_id=card.id,
                        number=card.number,
                        family=family,
                        owner=card.payer_uid,
                        usage=limits.Usage(cap=card.family.limit, held=0, spent=card.family.usage),
                        frame=SpendingLimit.Frame.MONTH,
                    )
                )
        elif family.payment_method_id:
            usage, _ = member_usage(family=family, member=member, now=now)
            family_cards.append(
                FamilyCard(
                    card_id=family.payment_method_id,
                    number=numbers.get(family.payment_method_id),
                    family=family,
                    owner=family.owner_user_id,
                    usage=usage,
                    frame=SpendingLimit.Frame.MONTH,
                )
            )
    return PaymentMethods(
        own_cards=[c for c in bound if c.payer_uid == user_id and c.family is None],
        families=families,
        family_cards=family_cards,
    )


def app_opened(
    *, workspace: Workspace, user_id: str, now: dt.datetime, cards: CardSystem | None = None
) -> PaymentMethods:
    """The payment-methods call, which the app makes when it opens: the lazy migration trigger
    (`migration_trigger.app_opened`: a job deferred in its own transaction, at most one per family),
    then the user's payment methods."""
    migration_trigger.app_opened(workspace=workspace, user_id=user_id, identity=get_identity_provider(), now=now)
    return payment_methods(workspace=workspace, user_id=user_id, now=now, cards=cards)
