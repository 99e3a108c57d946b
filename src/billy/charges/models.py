from django.db import models
from django.db.models import F, Q

from billy.clients.models import Client
from billy.ledger.models import Account, LedgerTransaction
from billy.workspaces.models import Workspace


class Charge(models.Model):
    class Status(models.TextChoices):
        HELD = "HELD", "held"
        COMPLETED = "COMPLETED", "completed"
        CANCELLED = "CANCELLED", "cancelled"

    class CancelReason(models.TextChoices):
        REQUESTED = "REQUESTED", "requested"
        EXPIRED = "EXPIRED", "expired"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    charge_id = models.CharField(max_length=128)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="charges")
    wallet = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="charges")
    product = models.CharField(max_length=128)
    amount = models.BigIntegerField(help_text="Requested (and, for a hold, held) amount in minor units.")
    currency = models.CharField(max_length=3)
    hold = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices)
    captured = models.BigIntegerField(default=0, help_text="Amount actually charged.")
    refunded = models.BigIntegerField(default=0)
    description = models.CharField(max_length=512, blank=True)
    # The consumer's own key-value pairs (billy.core.validation.check_metadata), shown and sent as given.
    metadata = models.JSONField(default=dict, blank=True)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=16, choices=CancelReason.choices, blank=True)
    transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="charge"
    )
    # The create call's body as billy understood it: a repeat must match it.
    request = models.JSONField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "charge"
        constraints = [
            models.UniqueConstraint(fields=["workspace", "charge_id"], name="charge_id_uk"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="charge_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded__gte=0) & Q(refunded__lte=F("captured")) & Q(captured__lte=F("amount")),
                name="charge_refunded_within_captured",
            ),
            models.CheckConstraint(
                condition=Q(status="HELD", captured=0, hold=True, hold_expires_at__isnull=False)
                | Q(status="COMPLETED", captured__gt=0, transaction__isnull=False)
                | Q(status="CANCELLED", captured=0, hold=True),
                name="charge_status_consistent",
            ),
        ]
        # Lists are newest first by (created_at, id): each filter has an index that gives that order.
        indexes = [
            models.Index(fields=["client", "-created_at", "-id"], name="charge_client_created_idx"),
            models.Index(fields=["workspace", "-created_at", "-id"], name="charge_ws_created_idx"),
            models.Index(fields=["workspace", "status", "-created_at", "-id"], name="charge_ws_status_created_idx"),
            models.Index(fields=["workspace", "product", "-created_at", "-id"], name="charge_ws_product_created_idx"),
            models.Index(fields=["hold_expires_at"], name="charge_hold_expiry_idx", condition=Q(status="HELD")),
        ]

    def __str__(self) -> str:
        return self.charge_id

    @property
    def refundable(self) -> int:
        return self.captured - self.refunded


class Refund(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    refund_id = models.CharField(max_length=128)
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    reason = models.CharField(max_length=512, blank=True)
    transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, related_name="refund")
    request = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        db_table = "refund"
        constraints = [
            models.UniqueConstraint(fields=["workspace", "refund_id"], name="refund_id_uk"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.refund_id
