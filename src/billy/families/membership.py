"""Family accounts and their members: create, delete, add, remove, leave, a member's limit, the
family card. Owner-only operations take the acting user and refuse anyone else (`NotOwner`).

Every change moves the account's `revision` on, under the family row's lock, which also keeps the
member count within `BILLY_FAMILY_MAX_MEMBERS`; "one family per user" is the database's unique key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from billy.core.errors import UpstreamUnavailable, ValidationFailed
from billy.core.tasks import defer
from billy.core.validation import check_text
from billy.integrations.cards import get_card_system
from billy.integrations.cards.port import CardSystem, CardSystemError
from billy.ledger import limits
from billy.workspaces.models import Workspace

from . import passport
from .errors import AlreadyInFamily, FamilyFull, FamilyNotFound, MemberNotFound, NotOwner, StaleRevision
from .models import Family, Member, MemberMigration

SYNC_CARD_TASK = "billy.families.sync_family_card"

MAX_COLOR_LENGTH = 32
MAX_PHONE_LENGTH = 32

__all__ = ["AlreadyInFamily", "FamilyFull", "FamilyNotFound", "MemberNotFound", "NotOwner", "StaleRevision"]


def _check_user(errors: dict[str, list[str]], field: str, value: str) -> None:
    check_text(errors, field, value, max_length=128)


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(errors)


def locked_family(*, workspace: Workspace, family_id: str) -> Family:
    """The active family, locked until the transaction ends; FamilyNotFound otherwise."""
    family = Family.objects.select_for_update().filter(workspace=workspace, family_id=family_id, is_active=True).first()
    if family is None:
        raise FamilyNotFound(details={"family_id": family_id[:128]})
    return family


def _owner_only(family: Family, acting_user_id: str) -> None:
    if family.owner_user_id != acting_user_id:
        raise NotOwner(details={"family_id": family.family_id})


def _moved_on(family: Family) -> None:
    Family.objects.filter(pk=family.pk).update(revision=F("revision") + 1)


def _add(family: Family, *, user_id: str, phone: str, role: str, limit: int | None, now: dt.datetime) -> Member:
    spending_limit = limits.open_limit(
        workspace_id=family.workspace_id, currency=family.workspace.currency, amount=limit, now=now
    )
    try:
        with transaction.atomic():
            return Member.objects.create(
                family=family,
                workspace_id=family.workspace_id,
                user_id=user_id,
                phone=phone,
                role=role,
                limit=spending_limit,
                created_at=now,
            )
    except IntegrityError as e:
        raise AlreadyInFamily(details={"user_id": user_id}) from e


def create_family(*, workspace: Workspace, owner: str, name: str, color: str = "", now: dt.datetime) -> Family:
    """A new family with `owner` as its owning member (unlimited). Raises ValidationFailed,
    AlreadyInFamily (the owner is in a family already)."""
    errors: dict[str, list[str]] = {}
    _check_user(errors, "owner", owner)
    check_text(errors, "name", name, max_length=128)
    check_text(errors, "color", color, max_length=MAX_COLOR_LENGTH, required=False)
    _raise(errors)
    # An owner in the migration experiment gets a family at the identity provider first (422
    # identity_account_required without a portal account); billy's own rows follow.
    at_provider = passport.create_at_provider(owner) if passport.creating_needs_identity(workspace.pk, owner) else None
    with transaction.atomic():
        family = Family.objects.create(
            workspace=workspace, owner_user_id=owner, name=name, color=color or "", accepted_at=now
        )
        family.workspace = workspace
        _add(family, user_id=owner, phone="", role=Member.Role.OWNER, limit=None, now=now)
        if at_provider is not None:
            passport.born_migrated(family, at_provider, now)
    return family


def delete_family(*, workspace: Workspace, family_id: str, acting_user_id: str, now: dt.datetime) -> None:
    """Close the family: its members are free to join another. Raises FamilyNotFound, NotOwner."""
    with transaction.atomic():
        family = locked_family(workspace=workspace, family_id=family_id)
        _owner_only(family, acting_user_id)
        if family.passport_account:
            passport.delete_family(family)
        family.members.all().delete()
        Family.objects.filter(pk=family.pk).update(
            is_active=False, deleted_at=now, revision=F("revision") + 1, payment_method_id=""
        )


def add_member(
    *,
    workspace: Workspace,
    family_id: str,
    acting_user_id: str,
    user_id: str,
    phone: str,
    limit: int | None,
    now: dt.datetime,
    repeat: bool = False,
) -> Member:
    """Add a member (`limit` None: unlimited). With `repeat` (the same request again, after a try
    that may have added the member and lost its answer), a member already in this family with this
    phone and limit is the answer. Raises ValidationFailed, FamilyNotFound, NotOwner,
    AlreadyInFamily, FamilyFull."""
    errors: dict[str, list[str]] = {}
    _check_user(errors, "user_id", user_id)
    check_text(errors, "phone", phone, max_length=MAX_PHONE_LENGTH)
    _raise(errors)
    with transaction.atomic():
        family = locked_family(workspace=workspace, family_id=family_id)
        _owner_only(family, acting_user_id)
        there = family.members.filter(user_id=user_id).select_related("limit").first()
        if there is not None:
            if repeat and there.phone == phone and there.limit.amount == limit:
                return there
            raise AlreadyInFamily("The user is already in this family.", details={"user_id": user_id})
        if family.members.count() >= settings.BILLY_FAMILY_MAX_MEMBERS:
            raise FamilyFull(details={"max_members": settings.BILLY_FAMILY_MAX_MEMBERS})
        family.workspace = workspace
        if family.passport_account:
            passport.add_member(family, user_id)
        member = _add(family, user_id=user_id, phone=phone, role=Member.Role.MEMBER, limit=limit, now=now)
        if family.passport_account:
            _after_move_added(family, member)
        _moved_on(family)
    return member


def _after_move_added(family: Family, member: Member) -> None:
    """A member added to a migrated family: shown in its migration, and their limit handed to the
    card payment system (a job in this transaction)."""
    migration = family.migration
    MemberMigration.objects.update_or_create(
        migration=migration,
        user_id=member.user_id,
        defaults={"identity_uid": member.user_id, "phone": member.phone, "state": MemberMigration.State.ADDED},
    )
    _sync_card(family)


def _sync_card(family: Family) -> None:
    if family.passport_account and family.payment_method_id:
        defer(SYNC_CARD_TASK, lock=f"family-card-{family.pk}", family_pk=family.pk)


def _remove(family: Family, user_id: str, *, leaving: bool, repeat: bool) -> None:
    member = family.members.filter(user_id=user_id).first()
    if member is None:
        if repeat:  # a try that removed them lost its answer: what was asked is done
            return
        raise MemberNotFound(details={"user_id": user_id[:128]})
    if family.passport_account:
        passport.remove_member(family, user_id, leaving=leaving)
        MemberMigration.objects.filter(migration__family=family, user_id=user_id).delete()
        _sync_card(family)
    member.delete()
    _moved_on(family)


def remove_member(
    *, workspace: Workspace, family_id: str, acting_user_id: str, user_id: str, repeat: bool = False
) -> None:
    """The owner removes a member. Raises FamilyNotFound, NotOwner, MemberNotFound (the owner is no
    member to remove: deleting the family is how the owner leaves). With `repeat` (the same request
    again, after a try that may have removed them and lost its answer), a member gone is no error."""
    with transaction.atomic():
        family = locked_family(workspace=workspace, family_id=family_id)
        _owner_only(family, acting_user_id)
        if user_id == family.owner_user_id:
            raise MemberNotFound(
                "The owner cannot be removed; delete the family instead.", details={"user_id": user_id}
            )
        _remove(family, user_id, leaving=False, repeat=repeat)


def leave_family(*, workspace: Workspace, family_id: str, user_id: str, repeat: bool = False) -> None:
    """A member leaves. Raises FamilyNotFound, MemberNotFound (the owner deletes the family instead);
    with `repeat`, as remove_member."""
    with transaction.atomic():
        family = locked_family(workspace=workspace, family_id=family_id)
        if user_id == family.owner_user_id:
            raise MemberNotFound("The owner cannot leave; delete the family instead.", details={"user_id": user_id})
        _remove(family, user_id, leaving=True, repeat=repeat)


@dataclasses.dataclass(frozen=True)
class LimitChange:
    amount: int | None  # None: unlimited
    revision: int


def set_member_limit(
    *, workspace: Workspace, family_id: str, acting_user_id: str, user_id: str, change: LimitChange, now: dt.datetime
) -> Family:
    """Set a member's limit on the account's current revision; what the member used this month stays.
    Raises FamilyNotFound, NotOwner, MemberNotFound, StaleRevision."""
    with transaction.atomic():
        family = locked_family(workspace=workspace, family_id=family_id)
        _owner_only(family, acting_user_id)
        if family.revision != change.revision:
            raise StaleRevision(details={"revision": family.revision})
        member = family.members.filter(user_id=user_id).first()
        if member is None:
            raise MemberNotFound(details={"user_id": user_id[:128]})
        limits.set_limit(limit_id=member.limit_id, amount=change.amount, now=now)
        _sync_card(family)
        _moved_on(family)
    return family


def set_payment_method(
    *,
    workspace: Workspace,
    family_id: str,
    acting_user_id: str,
    payment_method_id: str,
    now: dt.datetime,
    cards: CardSystem | None = None,
) -> None:
    """Make one of the owner's own cards the family card. Raises FamilyNotFound, NotOwner,
    ValidationFailed (not a card of the owner's), UpstreamUnavailable (the card system)."""
    with transaction.atomic():
        family = locked_family(workspace=workspace, family_id=family_id)
        _owner_only(family, acting_user_id)
        try:
            bound = (cards or get_card_system()).list_payment_methods(uid=family.owner_user_id)
        except CardSystemError as e:
            raise UpstreamUnavailable(
                "The card payment system is unavailable; retry later.", retry_after=settings.BILLY_RETRY_AFTER_SECONDS
            ) from e
        own = {c.id for c in bound if c.payer_uid == family.owner_user_id}
        if payment_method_id not in own:
            raise ValidationFailed({"payment_method_id": ["Not one of the owner's cards at the card payment system."]})
        if family.payment_method_id != payment_method_id:
            Family.objects.filter(pk=family.pk).update(payment_method_id=payment_method_id, revision=F("revision") + 1)
            family.payment_method_id = payment_method_id
            _sync_card(family)
