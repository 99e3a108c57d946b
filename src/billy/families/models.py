from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from billy.core.money import format_amount
from billy.ledger.models import LedgerTransaction, SpendingLimit
from billy.workspaces.models import Workspace


def new_family_id() -> str:
    return "family-" + uuid.uuid4().hex


class Family(models.Model):
    """A family account: an owner, members, a shared card (one of the owner's)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    family_id = models.CharField(max_length=64, default=new_family_id, unique=True)
    owner_user_id = models.CharField(max_length=128)
    name = models.CharField(max_length=128)
    color = models.CharField(max_length=32, blank=True)
    payment_method_id = models.CharField(max_length=128, blank=True, help_text="The family card, one of the owner's.")
    # The move to the identity provider: its family id, stored as soon as it is known; `migrated_at`
    # once the move is over (DONE or PARTIAL): from then on the provider holds the members and the
    # card payment system the limits and usage.
    passport_family_id = models.CharField(max_length=128, blank=True, db_index=True)
    migrated_at = models.DateTimeField(null=True, blank=True)
    # Every change of the account (members, limits, card) moves it on: a limit change names the
    # revision it was made on, and a stale one is refused.
    revision = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    accepted_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "family"
        verbose_name_plural = "families"
        indexes = [models.Index(fields=["workspace", "owner_user_id"], name="family_owner_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.family_id})"

    @property
    def passport_account(self) -> bool:
        """Whether the family lives at the identity provider."""
        return self.migrated_at is not None


class Member(models.Model):
    class Role(models.TextChoices):
        OWNER = "OWNER", "owner"
        MEMBER = "MEMBER", "member"

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="members")
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    user_id = models.CharField(max_length=128)
    phone = models.CharField(max_length=32, blank=True)
    role = models.CharField(max_length=8, choices=Role.choices)
    limit = models.ForeignKey(SpendingLimit, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        db_table = "family_member"
        ordering = ["id"]
        constraints = [
            # A user is in at most one family of the workspace.
            models.UniqueConstraint(fields=["workspace", "user_id"], name="family_member_one_family"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ({self.get_role_display()})"


class Spending(models.Model):
    """Money a member spends on the family card, named by the consumer's `spending_id`.

    PENDING: reserved against the member's limit, the card hold not confirmed yet; HELD; CLEARED
    (for `cleared_amount`, at most the held amount); CANCELLED (released by a call or expiry);
    FAILED (the card system refused or could not be reached: nothing was held).
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", "pending"
        HELD = "HELD", "held"
        CLEARED = "CLEARED", "cleared"
        CANCELLED = "CANCELLED", "cancelled"
        FAILED = "FAILED", "failed"

    class CancelReason(models.TextChoices):
        REQUESTED = "REQUESTED", "requested"
        EXPIRED = "EXPIRED", "expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)  # the card system's idempotency keys derive from it
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="spendings")
    spending_id = models.CharField(max_length=128)
    user_id = models.CharField(max_length=128)
    limit = models.ForeignKey(SpendingLimit, on_delete=models.PROTECT, related_name="+")
    frame_start = models.DateTimeField(help_text="The frame (month) the spending counts in.")
    card_id = models.CharField(max_length=128)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    card_payment_id = models.CharField(max_length=64, blank=True)
    # The amount a clear was asked for, written before the card call (write first).
    clear_amount = models.BigIntegerField(null=True, blank=True)
    cleared_amount = models.BigIntegerField(default=0)
    refunded_amount = models.BigIntegerField(default=0)
    cancel_reason = models.CharField(max_length=16, choices=CancelReason.choices, blank=True)
    failure_reason = models.CharField(max_length=128, blank=True)
    hold_expires_at = models.DateTimeField()
    transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="family_spending"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "family_spending"
        constraints = [
            models.UniqueConstraint(fields=["workspace", "spending_id"], name="family_spending_id_uk"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="family_spending_positive"),
            models.CheckConstraint(
                condition=Q(cleared_amount__lte=models.F("amount"))
                & Q(refunded_amount__lte=models.F("cleared_amount")),
                name="family_spending_within_hold",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "hold_expires_at"], name="family_spending_open_idx"),
            models.Index(fields=["family", "-created_at"], name="family_spending_family_idx"),
        ]

    def __str__(self) -> str:
        return f"spending {self.spending_id} ({format_amount(self.amount)} {self.currency})"

    @property
    def card_key(self) -> str:
        """The hold's idempotency key at the card system."""
        return f"spending-{self.pk}"


class SpendingRefund(models.Model):
    """A refund of a cleared spending, named by the consumer's `refund_id`: PENDING until the card
    system confirms it, then SUCCEEDED (the headroom is back); FAILED if the card system refused."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "pending"
        SUCCEEDED = "SUCCEEDED", "succeeded"
        FAILED = "FAILED", "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    spending = models.ForeignKey(Spending, on_delete=models.PROTECT, related_name="refunds")
    refund_id = models.CharField(max_length=128)
    amount = models.BigIntegerField()
    # The amount as the request gave it (None: it left it out, all that was left): a repeat is
    # the same request only with the same one.
    requested_amount = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=128, blank=True)
    transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="family_refund"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "family_spending_refund"
        constraints = [
            models.UniqueConstraint(fields=["workspace", "refund_id"], name="family_refund_id_uk"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="family_refund_positive"),
        ]

    def __str__(self) -> str:
        return f"refund {self.refund_id}"

    @property
    def card_key(self) -> str:
        return f"refund-{self.pk}"


from .migration_models import FamilyMigration, MemberMigration, MigrationExperiment, MigrationRun  # noqa: E402

__all__ = [
    "Family",
    "FamilyMigration",
    "Member",
    "MemberMigration",
    "MigrationExperiment",
    "MigrationRun",
    "Spending",
    "SpendingRefund",
]
