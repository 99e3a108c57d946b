"""The move of families to the identity provider, kept in PostgreSQL: the experiment that chooses
owners, each family's migration with its members' sub-states, and the batch runs with their cursor."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from billy.workspaces.models import Workspace


class MigrationExperiment(models.Model):
    """Who migrates in a workspace: `percent` of owners by a stable hash of the uid, plus the
    allowlist; and the deep links the pushes carry (owners and members are told different things)."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="+")
    percent = models.PositiveSmallIntegerField(default=0, help_text="Owners in the experiment, 0..100.")
    allowlist = models.JSONField(
        default=list, blank=True, help_text="Owners' uids in the experiment whatever the hash."
    )
    owner_deep_link = models.CharField(max_length=512, blank=True)
    member_deep_link = models.CharField(max_length=512, blank=True)

    class Meta:
        db_table = "family_migration_experiment"
        constraints = [models.CheckConstraint(condition=Q(percent__lte=100), name="family_experiment_percent")]

    def __str__(self) -> str:
        return f"{self.percent} % of owners"


class FamilyMigration(models.Model):
    """One family's move. PENDING → CREATING (a create was asked: its outcome is resolved by reading
    the owner's family back) → MEMBERS (the provider family is known and stored on the family) →
    CARD (the family card handed to the card payment system) → DONE, or PARTIAL while a member has
    no portal account (or is in another family at the provider). FAILED: the owner cannot have a
    provider family (no portal account, a member of someone else's); an operator retries."""

    class State(models.TextChoices):
        PENDING = "PENDING", "pending"
        CREATING = "CREATING", "creating the provider family"
        MEMBERS = "MEMBERS", "adding members"
        CARD = "CARD", "handing the family card over"
        DONE = "DONE", "done"
        PARTIAL = "PARTIAL", "partial"
        FAILED = "FAILED", "failed"

    class Source(models.TextChoices):
        LAZY = "LAZY", "the owner opened the app"
        BATCH = "BATCH", "billy families migrate"
        OPERATOR = "OPERATOR", "an operator"
        CREATED = "CREATED", "created at the provider"

    family = models.OneToOneField("families.Family", on_delete=models.CASCADE, related_name="migration")
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    source = models.CharField(max_length=16, choices=Source.choices)
    adopted = models.BooleanField(default=False, help_text="The owner had a provider family already.")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "family_migration"
        indexes = [models.Index(fields=["workspace", "state"], name="family_migration_state_idx")]

    def __str__(self) -> str:
        return f"migration of family #{self.family_id}: {self.get_state_display()}"


class MemberMigration(models.Model):
    """A member's part of the move: ADDED (billy added them), MATCHED (already in the provider
    family, by uid or phone), NEEDS_IDENTITY (no portal account yet), CONFLICT (in another family,
    or the family is full); PROVIDER_ONLY: a provider member billy does not know, shown read-only."""

    class State(models.TextChoices):
        PENDING = "PENDING", "pending"
        ADDED = "ADDED", "added"
        MATCHED = "MATCHED", "matched"
        NEEDS_IDENTITY = "NEEDS_IDENTITY", "needs a portal account"
        CONFLICT = "CONFLICT", "in another family or the family is full"
        PROVIDER_ONLY = "PROVIDER_ONLY", "only at the provider"

    migration = models.ForeignKey(FamilyMigration, on_delete=models.CASCADE, related_name="members")
    user_id = models.CharField(max_length=128)
    identity_uid = models.CharField(max_length=128, blank=True, help_text="The provider's uid, once known.")
    phone = models.CharField(max_length=32, blank=True)
    is_owner = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    last_error = models.CharField(max_length=255, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True, help_text="When the push about the move was deferred.")

    class Meta:
        db_table = "family_member_migration"
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["migration", "user_id"], name="family_member_migration_uk")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.get_state_display()}"


class MigrationRun(models.Model):
    """A batch run of `billy families migrate`: what it selects, its cursor (the last family it
    finished, in id order) and its tallies; an interrupted run is resumed from its cursor."""

    class Status(models.TextChoices):
        RUNNING = "RUNNING", "running"
        FINISHED = "FINISHED", "finished"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    selection = models.CharField(max_length=128, help_text='"all", or the owners file\'s SHA-256.')
    owners = models.JSONField(null=True, blank=True, help_text="The owners' uids, for a run over a file.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    cursor = models.BigIntegerField(default=0, help_text="The last family (id) this run finished.")
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    partial = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "family_migration_run"

    def __str__(self) -> str:
        return f"run #{self.pk} ({self.selection}): {self.get_status_display()}"
