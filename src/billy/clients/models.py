from django.db import models
from django.db.models import Q

from billy.workspaces.models import Workspace


class Client(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", "pending"  # not yet known to Balance
        ACTIVE = "ACTIVE", "active"  # registered in Balance
        NEEDS_ATTENTION = "NEEDS_ATTENTION", "needs attention"  # ambiguous in Balance; an operator decides

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="clients")
    service_client_id = models.CharField(max_length=128)
    balance_client_id = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=128)
    email = models.CharField(max_length=128)
    phone = models.CharField(max_length=128)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Set before a CreateClient is sent, cleared when its outcome is known: while set, a client may
    # exist in Balance with this row's name, email and phone.
    balance_call_started_at = models.DateTimeField(null=True, blank=True)
    configuration_linked_at = models.DateTimeField(null=True, blank=True)
    attention_reason = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "client"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "service_client_id"], name="client_uk"),
            models.UniqueConstraint(fields=["workspace", "balance_client_id"], name="client_balance_uk"),
            models.CheckConstraint(
                condition=Q(status="PENDING", balance_client_id__isnull=True)
                | Q(status="ACTIVE", balance_client_id__isnull=False)
                | Q(status="NEEDS_ATTENTION"),
                name="client_status_balance_id",
            ),
            models.CheckConstraint(
                condition=Q(configuration_linked_at__isnull=True) | Q(balance_client_id__isnull=False),
                name="client_linked_has_balance_id",
            ),
        ]
        # The list is newest first by (created_at, id), filtered by status or not.
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="client_ws_created_idx"),
            models.Index(fields=["workspace", "status", "-created_at", "-id"], name="client_ws_status_created_idx"),
            models.Index(fields=["balance_client_id"], name="client_balance_id_idx"),
            models.Index(fields=["status"], name="client_status_idx", condition=~Q(status="ACTIVE")),
        ]

    def __str__(self) -> str:
        return f"{self.service_client_id} ({self.name})"
