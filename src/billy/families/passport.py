"""A migrated family (`Family.passport_account`): the identity provider holds its members, so a
read takes them from there and a change of membership is written there first, synchronously,
before billy's own rows follow. The provider down is `identity_unavailable` (503), and nothing
stale is invented in its place.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db import transaction

from billy.core.errors import BillyError
from billy.integrations.identity import get_identity_provider
from billy.integrations.identity.port import (
    ALREADY_IN_THIS_FAMILY,
    FAMILY_FULL,
    FAMILY_NOT_FOUND,
    IN_ANOTHER_FAMILY,
    NO_PORTAL_ACCOUNT,
    NO_SUCH_USER,
    NOT_A_MEMBER,
    IdentityOutcomeUnknown,
    IdentityProvider,
    IdentityRejected,
    IdentityUnavailable,
    ProviderFamily,
)
from billy.ledger.models import SpendingLimit

from .errors import (
    AlreadyInFamily,
    FamilyFull,
    IdentityAccountRequired,
    IdentityProviderUnavailable,
    MemberNotFound,
)
from .migration_trigger import in_experiment
from .models import Family, FamilyMigration, Member, MemberMigration, MigrationExperiment


def _unavailable(e: Exception) -> IdentityProviderUnavailable:
    return IdentityProviderUnavailable(details={"reason": str(e)[:200]})


@dataclasses.dataclass(frozen=True)
class MemberView:
    """A member as a read shows it: billy's row, or for a migrated family the provider's member
    with billy's limit when billy knows them (`read_only`: a provider member billy does not know)."""

    user_id: str
    phone: str
    role: str
    limit: SpendingLimit | None  # None: no limit billy keeps (unlimited)
    read_only: bool = False


def member_views(family: Family, identity: IdentityProvider | None = None) -> list[MemberView]:
    """The members a read shows; for a migrated family, the provider's (IdentityProviderUnavailable
    when it cannot be read, or it has no such family any more)."""
    members = list(family.members.all())
    if not family.passport_account:
        return [MemberView(m.user_id, m.phone, m.role, m.limit) for m in members]
    try:
        found = (identity or get_identity_provider()).get_family(uid=family.owner_user_id)
    except (IdentityUnavailable, IdentityOutcomeUnknown, IdentityRejected) as e:
        raise _unavailable(e) from e
    if found is None or found.family_id != family.passport_family_id:
        raise IdentityProviderUnavailable(
            "The identity provider does not show this family's members.",
            details={"passport_family_id": family.passport_family_id},
        )
    by_uid = {m.user_id: m for m in members}
    matched = {
        r.identity_uid: by_uid.get(r.user_id)
        for r in MemberMigration.objects.filter(migration__family=family).exclude(identity_uid="")
    }
    views = []
    for pm in found.members:
        billy = by_uid.get(pm.uid) or matched.get(pm.uid)
        role = Member.Role.OWNER if pm.uid == found.admin else Member.Role.MEMBER
        views.append(MemberView(pm.uid, pm.phone, role, billy.limit if billy else None, read_only=billy is None))
    return views


def _refused(e: IdentityRejected, user_id: str) -> BillyError:
    if e.code in (NO_PORTAL_ACCOUNT, NO_SUCH_USER):
        return IdentityAccountRequired(details={"user_id": user_id})
    if e.code in (ALREADY_IN_THIS_FAMILY, IN_ANOTHER_FAMILY):
        return AlreadyInFamily(details={"user_id": user_id, "reason": e.code})
    if e.code == FAMILY_FULL:
        return FamilyFull(details={"reason": e.code})
    if e.code in (NOT_A_MEMBER, FAMILY_NOT_FOUND):
        return MemberNotFound(details={"user_id": user_id})
    return IdentityProviderUnavailable(f"The identity provider refused: {e.code}.", details={"reason": e.code})


# The provider's refusals that say the change is there already: a retry of a change whose answer
# was lost, or whose billy side did not commit, finds what it asked for and billy's rows follow.
_DONE_ALREADY = {True: ALREADY_IN_THIS_FAMILY, False: NOT_A_MEMBER}


def _write(family: Family, user_id: str, call, present_after: bool, identity: IdentityProvider) -> None:
    """Make a membership change at the provider; an unknown outcome is resolved by reading the
    family back (the change is there, or it is a 503 and billy changes nothing). A refusal that
    says the change is there already (the member in this very family, or not in it) is adopted."""
    try:
        call()
    except IdentityRejected as e:
        if e.code == _DONE_ALREADY[present_after]:
            return
        raise _refused(e, user_id) from e
    except IdentityUnavailable as e:
        raise _unavailable(e) from e
    except IdentityOutcomeUnknown as e:
        try:
            found = identity.get_family(uid=family.owner_user_id)
        except (IdentityUnavailable, IdentityOutcomeUnknown, IdentityRejected) as again:
            raise _unavailable(again) from e
        if found is None or (user_id in found.uids) != present_after:
            raise _unavailable(e) from e


def add_member(family: Family, user_id: str, identity: IdentityProvider | None = None) -> None:
    identity = identity or get_identity_provider()
    _write(
        family,
        user_id,
        lambda: identity.add_member(family_id=family.passport_family_id, uid=user_id),
        True,
        identity,
    )


def remove_member(family: Family, user_id: str, *, leaving: bool, identity: IdentityProvider | None = None) -> None:
    identity = identity or get_identity_provider()
    fid = family.passport_family_id
    if leaving:
        call = lambda: identity.leave(family_id=fid, uid=user_id)  # noqa: E731
    else:
        call = lambda: identity.remove_member(family_id=fid, uid=user_id)  # noqa: E731
    _write(family, user_id, call, False, identity)


def delete_family(family: Family, identity: IdentityProvider | None = None) -> None:
    identity = identity or get_identity_provider()
    try:
        identity.delete_family(family_id=family.passport_family_id)
    except IdentityRejected as e:
        if e.code != FAMILY_NOT_FOUND:  # gone already: what was asked
            raise _refused(e, family.owner_user_id) from e
    except IdentityUnavailable as e:
        raise _unavailable(e) from e
    except IdentityOutcomeUnknown as e:
        try:
            found = identity.get_family(uid=family.owner_user_id)
        except (IdentityUnavailable, IdentityOutcomeUnknown, IdentityRejected) as again:
            raise _unavailable(again) from e
        if found is not None and found.family_id == family.passport_family_id:
            raise _unavailable(e) from e


def creating_needs_identity(workspace_id: int, owner: str) -> bool:
    """Whether a new family of `owner` is born at the identity provider (the owner is in the
    workspace's migration experiment)."""
    return in_experiment(MigrationExperiment.objects.filter(workspace_id=workspace_id).first(), owner)


def create_at_provider(owner: str, identity: IdentityProvider | None = None) -> ProviderFamily:
    """The owner's new provider family (their existing one, if they are its admin already).
    Raises IdentityAccountRequired, AlreadyInFamily, IdentityProviderUnavailable."""
    identity = identity or get_identity_provider()
    try:
        user = identity.get_user(uid=owner)
        if user is None or not user.portal:
            raise IdentityAccountRequired(details={"user_id": owner})
        found = identity.get_family(uid=owner)
        if found is None:
            try:
                return identity.create_family(admin=owner)
            except IdentityOutcomeUnknown:
                found = identity.get_family(uid=owner)
                if found is None:
                    raise
    except IdentityRejected as e:
        raise _refused(e, owner) from e
    except (IdentityUnavailable, IdentityOutcomeUnknown) as e:
        raise _unavailable(e) from e
    if found.admin != owner:
        raise AlreadyInFamily(details={"user_id": owner, "reason": IN_ANOTHER_FAMILY})
    return found


def born_migrated(family: Family, provider_family: ProviderFamily, now: dt.datetime) -> None:
    """A family created at the provider: migrated from the start, with nothing to tell anyone."""
    with transaction.atomic():
        Family.objects.filter(pk=family.pk).update(passport_family_id=provider_family.family_id, migrated_at=now)
        family.passport_family_id, family.migrated_at = provider_family.family_id, now
        migration = FamilyMigration.objects.create(
            family=family,
            workspace_id=family.workspace_id,
            state=FamilyMigration.State.DONE,
            source=FamilyMigration.Source.CREATED,
            created_at=now,
            updated_at=now,
            finished_at=now,
        )
        MemberMigration.objects.create(
            migration=migration,
            user_id=family.owner_user_id,
            identity_uid=family.owner_user_id,
            is_owner=True,
            state=MemberMigration.State.MATCHED,
            pushed_at=now,
        )
