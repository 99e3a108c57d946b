"""The move of one family to the identity provider: a state machine kept in PostgreSQL
(`FamilyMigration`, `MemberMigration`), each step idempotent and resumable, one run at a time per
family (a session advisory lock, which PostgreSQL frees if the process dies).

1. Read the owner's family at the provider. A provider error stops the run (`MigrationDeferred`,
   tried again later) having changed nothing.
2. No family there: CREATING is committed, then the family is created. An unknown outcome is
   resolved by reading the owner's family back, never by creating twice (and the provider refuses a
   second family of the same admin anyway). A family already there is adopted. Its id is stored on
   the family at once (MEMBERS).
3. Every billy member is matched to the provider family (by uid, then by phone) or added to it, and
   one this move put there who left billy's family meanwhile is taken out again;
   a member without a portal account is NEEDS_IDENTITY, one in another family (or a full family)
   CONFLICT; provider members billy does not know are kept PROVIDER_ONLY, shown read-only.
4. The family card, if any, with each member's limit is handed to the card payment system (CARD).
5. Under the family row's lock, and only if the family did not change since step 3 (else step 3
   again): DONE, or PARTIAL while a member is NEEDS_IDENTITY or CONFLICT; the family is migrated
   (`migrated_at`), and a push is deferred to each user not told yet, in the same transaction.

A PARTIAL family is run again (the owner opens the app, the member who lacked an account does, an
operator retries, a batch run): members now able to join are added, and are told once.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F

from billy.core.locks import try_session_lock
from billy.core.tasks import defer
from billy.integrations.cards.port import CardSystem, CardSystemError
from billy.integrations.identity.port import (
    ALREADY_IN_THIS_FAMILY,
    FAMILY_NOT_FOUND,
    IN_ANOTHER_FAMILY,
    NO_PORTAL_ACCOUNT,
    NO_SUCH_USER,
    NOT_A_MEMBER,
    IdentityError,
    IdentityOutcomeUnknown,
    IdentityProvider,
    IdentityRejected,
    IdentityUnavailable,
    ProviderFamily,
)

from .models import Family, FamilyMigration, Member, MemberMigration, MigrationExperiment

logger = logging.getLogger(__name__)

# The namespace of the per-family session advisory lock (billy.core.locks): "migr".
MIGRATION_LOCK = 0x6D696772
NOTIFY_TASK = "billy.families.notify_migrated"
BUSY = "BUSY"  # another run holds the family: it will finish the move

State = FamilyMigration.State
MemberState = MemberMigration.State
FINAL = (State.DONE, State.PARTIAL)
UNFINISHED_MEMBERS = (MemberState.NEEDS_IDENTITY, MemberState.CONFLICT)
IN_FAMILY = (MemberState.ADDED, MemberState.MATCHED)


class MigrationDeferred(Exception):
    """The provider or the card system could not serve the move now; it is tried again later."""


def _phone(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def ensure_migration(*, family: Family, source: str, now: dt.datetime) -> FamilyMigration:
    migration, _ = FamilyMigration.objects.get_or_create(
        family=family,
        defaults={"workspace_id": family.workspace_id, "source": source, "created_at": now, "updated_at": now},
    )
    return migration


def _update(migration: FamilyMigration, now: dt.datetime, **fields) -> None:
    for name, value in fields.items():
        setattr(migration, name, value)
    FamilyMigration.objects.filter(pk=migration.pk).update(updated_at=now, **fields)


def migrate_family(
    *, family_pk: int, identity: IdentityProvider, cards: CardSystem, now: dt.datetime, source: str
) -> str:
    """Run the family's move as far as it goes; returns the state it reached, or BUSY when another
    run holds the family. Raises MigrationDeferred when the provider (or card system) failed."""
    with try_session_lock(MIGRATION_LOCK, family_pk) as mine:
        if not mine:
            return BUSY
        family = Family.objects.select_related("workspace").get(pk=family_pk)
        migration = ensure_migration(family=family, source=source, now=now)
        if migration.state == State.DONE:
            return State.DONE
        FamilyMigration.objects.filter(pk=migration.pk).update(attempts=F("attempts") + 1)
        try:
            if not family.is_active:
                return _closed(family, migration, identity, now)
            provider_family = _provider_family(family, migration, identity, now)
            if provider_family is None:
                return State.FAILED
            for _ in range(5):
                revision, active = Family.objects.values_list("revision", "is_active").get(pk=family.pk)
                if not active:  # closed while it moved
                    return _closed(family, migration, identity, now)
                provider_family = _members(family, migration, provider_family, identity, now)
                _hand_card(family, migration, cards, now)
                state = _finish(family, migration, revision, now)
                if state is not None:
                    return state
                provider_family = _read(identity, family.owner_user_id)
                if provider_family is None:
                    raise MigrationDeferred("the provider family went away while the family moved")
            raise MigrationDeferred("the family kept changing while it moved")
        except (IdentityUnavailable, IdentityOutcomeUnknown, CardSystemError, MigrationDeferred) as e:
            _update(migration, now, last_error=f"{type(e).__name__}: {e}"[:2000])
            raise MigrationDeferred(str(e)) from e


def _closed(family: Family, migration: FamilyMigration, identity: IdentityProvider, now: dt.datetime) -> str:
    """The family was closed before its move finished: a provider family this move created is
    deleted again (one the owner had already stays theirs), and the migration is FAILED."""
    family.refresh_from_db(fields=["passport_family_id"])
    if family.passport_family_id and not migration.adopted:
        try:
            identity.delete_family(family_id=family.passport_family_id)
        except IdentityRejected as e:
            if e.code != FAMILY_NOT_FOUND:
                raise MigrationDeferred(f"the provider refused to delete the family: {e}") from e
        except IdentityOutcomeUnknown:
            found = _read(identity, family.owner_user_id)
            if found is not None and found.family_id == family.passport_family_id:
                raise
    _update(migration, now, state=State.FAILED, last_error="The family was closed.")
    return State.FAILED


def _read(identity: IdentityProvider, uid: str) -> ProviderFamily | None:
    return identity.get_family(uid=uid)


def _fail(migration: FamilyMigration, message: str, now: dt.datetime) -> None:
    _update(migration, now, state=State.FAILED, last_error=message)


def _provider_family(
    family: Family, migration: FamilyMigration, identity: IdentityProvider, now: dt.datetime
) -> ProviderFamily | None:
    """Steps 1-2: the owner's provider family, read, created or adopted, its id stored on the
    family; None (FAILED) when the owner cannot have one."""
    owner = family.owner_user_id
    found = _read(identity, owner)
    # A create asked by an earlier run (its answer lost, or the run killed) is billy's own family.
    created = migration.state == State.CREATING
    if found is None:
        # CREATING is committed before the call: a run that dies during it, or an answer that is
        # lost, leaves a state that the next run resolves by this very read.
        _update(migration, now, state=State.CREATING)
        try:
            found = identity.create_family(admin=owner)
            created = True
        except IdentityOutcomeUnknown:
            found = _read(identity, owner)
            if found is None:
                raise
            created = True
        except IdentityRejected as e:
            if e.code in (NO_PORTAL_ACCOUNT, NO_SUCH_USER):
                _fail(migration, f"The owner has no portal account at the identity provider ({e.code}).", now)
                return None
            if e.code != IN_ANOTHER_FAMILY:
                _fail(migration, f"The identity provider refused to create the family: {e}", now)
                return None
            found = _read(identity, owner)  # made meanwhile (another run's create, or the user)
            if found is None:
                raise MigrationDeferred(f"the provider says the owner is in a family it does not show: {e}") from e
    if found.admin != owner:
        _fail(migration, f"The owner is a member of another provider family ({found.family_id}).", now)
        return None
    if family.passport_family_id != found.family_id:
        first = not family.passport_family_id
        Family.objects.filter(pk=family.pk).update(passport_family_id=found.family_id)
        family.passport_family_id = found.family_id
        _update(migration, now, adopted=first and not created)
    if migration.state not in FINAL:
        _update(migration, now, state=State.MEMBERS)
    return found


def _member_rows(family: Family, migration: FamilyMigration) -> tuple[list[Member], dict[str, MemberMigration]]:
    members = list(Member.objects.filter(family=family).select_related("limit").order_by("id"))
    rows = {r.user_id: r for r in migration.members.all()}
    for member in members:
        if member.user_id not in rows:
            rows[member.user_id] = MemberMigration.objects.create(
                migration=migration,
                user_id=member.user_id,
                phone=member.phone,
                is_owner=member.role == Member.Role.OWNER,
            )
    return members, rows


def _set_member(row: MemberMigration, state: str, *, identity_uid: str = "", error: str = "") -> None:
    row.state, row.identity_uid, row.last_error = state, identity_uid or row.identity_uid, error[:255]
    MemberMigration.objects.filter(pk=row.pk).update(
        state=row.state, identity_uid=row.identity_uid, last_error=row.last_error
    )


def _members(
    family: Family,
    migration: FamilyMigration,
    provider_family: ProviderFamily,
    identity: IdentityProvider,
    now: dt.datetime,
) -> ProviderFamily:
    """Step 3: every billy member matched to the provider family or added to it."""
    members, rows = _member_rows(family, migration)
    known = {m.user_id for m in members}
    by_phone = {_phone(m.phone): m.uid for m in provider_family.members if _phone(m.phone)}
    matched: set[str] = set()
    for member in members:
        row = rows[member.user_id]
        if member.user_id in provider_family.uids:
            state = row.state if row.state in IN_FAMILY else MemberState.MATCHED
            _set_member(row, state, identity_uid=member.user_id)
            matched.add(member.user_id)
            continue
        phone_uid = by_phone.get(_phone(member.phone)) if _phone(member.phone) else None
        if phone_uid is not None and phone_uid not in known:
            _set_member(row, MemberState.MATCHED, identity_uid=phone_uid)
            matched.add(phone_uid)
            continue
        provider_family = _add(provider_family, row, identity, family.owner_user_id)
        if row.state in IN_FAMILY:
            matched.add(member.user_id)
    for uid in provider_family.uids - matched - known:
        row = rows.get(uid)
        if row is not None and row.state in IN_FAMILY and uid != provider_family.admin:
            # A member this move put in the provider family (or found there) who left billy's
            # family meanwhile: the removal is carried to the provider, not kept as read-only.
            provider_family = _take_out(provider_family, uid, identity, family.owner_user_id)
            continue
        row = row or MemberMigration.objects.create(migration=migration, user_id=uid)
        _set_member(row, MemberState.PROVIDER_ONLY, identity_uid=uid)
    gone = [r.pk for uid, r in rows.items() if uid not in known and uid not in provider_family.uids]
    MemberMigration.objects.filter(pk__in=gone).delete()
    return provider_family


def _add(provider_family: ProviderFamily, row: MemberMigration, identity: IdentityProvider, owner: str):
    try:
        provider_family = identity.add_member(family_id=provider_family.family_id, uid=row.user_id)
        _set_member(row, MemberState.ADDED, identity_uid=row.user_id)
    except IdentityOutcomeUnknown:
        again = _read(identity, owner)
        if again is None or row.user_id not in again.uids:
            raise
        provider_family = again
        _set_member(row, MemberState.ADDED, identity_uid=row.user_id)
    except IdentityRejected as e:
        if e.code == ALREADY_IN_THIS_FAMILY:
            _set_member(row, MemberState.ADDED, identity_uid=row.user_id)
        elif e.code in (NO_PORTAL_ACCOUNT, NO_SUCH_USER):
            _set_member(row, MemberState.NEEDS_IDENTITY, error=e.code)
        else:  # in_another_family, family_full
            _set_member(row, MemberState.CONFLICT, error=e.code)
    return provider_family


def _take_out(provider_family: ProviderFamily, uid: str, identity: IdentityProvider, owner: str) -> ProviderFamily:
    try:
        return identity.remove_member(family_id=provider_family.family_id, uid=uid)
    except IdentityRejected as e:
        if e.code != NOT_A_MEMBER:
            raise MigrationDeferred(f"the provider refused to remove {uid}: {e}") from e
    except IdentityOutcomeUnknown:
        pass
    again = _read(identity, owner)
    if again is None or uid in again.uids:
        raise MigrationDeferred(f"the removal of {uid} from the provider family is not confirmed")
    return again


def _hand_card(family: Family, migration: FamilyMigration, cards: CardSystem, now: dt.datetime) -> None:
    """Step 4: the family card with every member's limit, to the card payment system (the same call
    again changes nothing there)."""
    family.refresh_from_db(fields=["payment_method_id", "passport_family_id"])
    if not family.payment_method_id:
        return
    if migration.state not in FINAL:
        _update(migration, now, state=State.CARD)
    put_family_card(family, cards)


def sync_family_card(*, family_pk: int, cards: CardSystem) -> bool:
    """A migrated family's card and limits as they are now, to the card payment system (after a
    change of members, limits or card); False when there is nothing to hand over."""
    family = Family.objects.get(pk=family_pk)
    if not (family.passport_account and family.is_active and family.payment_method_id):
        return False
    put_family_card(family, cards)
    return True


def put_family_card(family: Family, cards: CardSystem) -> None:
    members = Member.objects.filter(family=family).select_related("limit").order_by("id")
    cards.put_family(
        family_id=family.passport_family_id,
        card_id=family.payment_method_id,
        owner_uid=family.owner_user_id,
        members=[(m.user_id, m.limit.amount) for m in members],
    )


def _finish(family: Family, migration: FamilyMigration, revision: int, now: dt.datetime) -> str | None:
    """Step 5, in one transaction; None when the family changed since step 3 began."""
    with transaction.atomic():
        locked = Family.objects.select_for_update().get(pk=family.pk)
        if locked.revision != revision:
            return None
        rows = list(migration.members.select_for_update())
        state = State.PARTIAL if any(r.state in UNFINISHED_MEMBERS for r in rows) else State.DONE
        _update(migration, now, state=state, last_error="", finished_at=now)
        if locked.migrated_at is None:
            Family.objects.filter(pk=family.pk).update(migrated_at=now)
        _defer_pushes(locked, [r for r in rows if r.state in IN_FAMILY and r.pushed_at is None], now)
    return state


def _defer_pushes(family: Family, rows: list[MemberMigration], now: dt.datetime) -> None:
    """Each user is told once: `pushed_at` is set with the job that tells them; the notification's
    key makes a repeated job send nothing more."""
    if not rows:
        return
    experiment = MigrationExperiment.objects.filter(workspace_id=family.workspace_id).first()
    for row in rows:
        role = "owner" if row.is_owner else "member"
        link = getattr(experiment, f"{role}_deep_link", "") if experiment else ""
        defer(
            NOTIFY_TASK,
            key=f"family-migrated-{family.family_id}-{row.user_id}",
            scope=family.workspace.name,
            user_id=row.user_id,
            template=f"family_migrated_{role}",
            params={"family_id": family.family_id, "deep_link": link},
        )
    MemberMigration.objects.filter(pk__in=[r.pk for r in rows]).update(pushed_at=now)


def is_identity_error(e: BaseException) -> bool:
    return isinstance(e, IdentityError | MigrationDeferred)
