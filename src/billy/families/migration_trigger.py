"""Who migrates, and when: the workspace's experiment, the lazy trigger of the payment-methods
call, and the one way a family's migration is asked for (`request_migration`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.db import transaction
from procrastinate.exceptions import AlreadyEnqueued

from billy.core.tasks import defer
from billy.integrations.identity.port import IdentityError, IdentityProvider
from billy.workspaces.models import Workspace

from .migration import ensure_migration
from .models import Family, FamilyMigration, Member, MemberMigration, MigrationExperiment

logger = logging.getLogger(__name__)

MIGRATE_TASK = "billy.families.migrate_family"


def bucket(uid: str) -> int:
    """The uid's place in 0..99, the same in every process and every run."""
    return int.from_bytes(hashlib.sha256(uid.encode()).digest()[:8], "big") % 100


def in_experiment(experiment: MigrationExperiment | None, uid: str) -> bool:
    if experiment is None:
        return False
    return uid in (experiment.allowlist or ()) or bucket(uid) < experiment.percent


def request_migration(*, family: Family, source: str, now: dt.datetime) -> bool:
    """The family's migration row, and its job deferred in the caller's transaction; at most one
    job waits per family (a queueing lock). Returns whether a job was deferred."""
    with transaction.atomic():
        ensure_migration(family=family, source=source, now=now)
        try:
            with transaction.atomic():
                defer(MIGRATE_TASK, queueing_lock=f"family-migration-{family.pk}", family_pk=family.pk, source=source)
        except AlreadyEnqueued:
            return False
    return True


def _wanted(member: Member, migration: FamilyMigration | None, workspace: Workspace) -> bool:
    """Whether the caller's opening the app should move their family (before the portal check)."""
    family = member.family
    if member.role == Member.Role.OWNER:
        if migration is None:
            experiment = MigrationExperiment.objects.filter(workspace=workspace).first()
            return in_experiment(experiment, family.owner_user_id)
        return migration.state != FamilyMigration.State.DONE
    # A member who lacked a portal account: the PARTIAL family is tried again once they have one.
    return (
        migration is not None
        and migration.state == FamilyMigration.State.PARTIAL
        and MemberMigration.objects.filter(
            migration=migration, user_id=member.user_id, state=MemberMigration.State.NEEDS_IDENTITY
        ).exists()
    )


def app_opened(*, workspace: Workspace, user_id: str, identity: IdentityProvider, now: dt.datetime) -> bool:
    """The lazy trigger: the caller owns a family that is not migrated, is in the experiment and
    has a portal account (or is the member a PARTIAL family waits for) → its migration is deferred.
    The provider being unreachable only postpones it to the next call. Returns whether one was asked."""
    member = (
        Member.objects.filter(workspace=workspace, user_id=user_id, family__is_active=True)
        .select_related("family")
        .first()
    )
    if member is None:
        return False
    migration = FamilyMigration.objects.filter(family_id=member.family_id).first()
    if not _wanted(member, migration, workspace):
        return False
    try:
        user = identity.get_user(uid=user_id)
    except IdentityError as e:
        logger.info("family migration trigger for %s postponed: %s", user_id, e)
        return False
    if user is None or not user.portal:
        return False
    return request_migration(family=member.family, source=FamilyMigration.Source.LAZY, now=now)
