from django.db import models
from django.db.models import Q

from billy.clients.models import Client
from billy.payers.models import Contract, Payer
from billy.workspaces.models import Workspace


class Invoice(models.Model):
    """A Balance invoice of a client: a prepay one the consumer asked for (named by its
    `invoice_id`), or a credit one Balance formed at a month close (named `balance-<id>`)."""

    class Kind(models.TextChoices):
        PREPAY = "PREPAY", "prepay"
        CREDIT = "CREDIT", "credit"

    class Status(models.TextChoices):
        PENDING = "PENDING", "pending"  # not yet issued in Balance
        ISSUED = "ISSUED", "issued"
        PARTIALLY_PAID = "PARTIALLY_PAID", "partially paid"
        PAID = "PAID", "paid"
        NEEDS_ATTENTION = "NEEDS_ATTENTION", "needs attention"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="invoices")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="invoices")
    invoice_id = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PREPAY)
    amount = models.BigIntegerField()
    paid_amount = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    balance_request_id = models.BigIntegerField(null=True, blank=True)
    balance_invoice_id = models.BigIntegerField(null=True, blank=True)
    number = models.CharField(max_length=64, blank=True, help_text="Balance's invoice number.")
    payment_url = models.CharField(max_length=512, blank=True)
    # Set before a CreateInvoice is sent, cleared when its outcome is known.
    invoice_call_started_at = models.DateTimeField(null=True, blank=True)
    attention_reason = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "invoice"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "invoice_id"], name="invoice_uk"),
            models.UniqueConstraint(fields=["balance_invoice_id"], name="invoice_balance_uk"),
            models.CheckConstraint(condition=Q(amount__gt=0, paid_amount__gte=0), name="invoice_amounts"),
        ]
        indexes = [
            models.Index(fields=["client", "-id"], name="invoice_client_idx"),
            models.Index(
                fields=["contract"],
                name="invoice_open_idx",
                condition=Q(status__in=["PENDING", "ISSUED", "PARTIALLY_PAID"]),
            ),
        ]

    def __str__(self) -> str:
        return self.invoice_id


class BalanceNotification(models.Model):
    """A NotifyOrder as Balance sent it, stored before it is acknowledged; a job re-reads the order."""

    class Status(models.TextChoices):
        RECEIVED = "RECEIVED", "received"  # stored, a job re-reads the order
        PROCESSED = "PROCESSED", "processed"  # the order was re-read and booked
        IGNORED = "IGNORED", "ignored"  # about no wallet order of the workspace (or another service)
        FORGED = "FORGED", "forged"  # a wrong secret: refused

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    service_id = models.BigIntegerField(null=True, blank=True)
    order_id = models.BigIntegerField(null=True, blank=True)
    seq = models.BigIntegerField(null=True, blank=True)
    paid_total = models.BigIntegerField(null=True, blank=True, help_text="As the notification says (a hint).")
    credit_total = models.BigIntegerField(null=True, blank=True, help_text="As the notification says (a hint).")
    body = models.TextField()
    remote_addr = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    deliveries = models.PositiveIntegerField(default=1)
    booked_paid = models.BigIntegerField(default=0, help_text="What its processing booked as paid money.")
    booked_credit = models.BigIntegerField(default=0, help_text="What its processing booked as credit money.")
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "balance_notification"
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "order_id", "seq"], name="balance_notification_uk")]
        indexes = [models.Index(fields=["status", "-received_at"], name="balance_notif_status_idx")]

    def __str__(self) -> str:
        return f"NotifyOrder {self.order_id} #{self.seq}"


class CreditTransfer(models.Model):
    """Money moved from a postpay contract's credit limit onto the wallet, named by `transfer_id`."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "pending"  # credit reserved; Balance asked, or about to be
        SUCCEEDED = "SUCCEEDED", "succeeded"
        FAILED = "FAILED", "failed"  # Balance refused; the reservation was given back
        NEEDS_ATTENTION = "NEEDS_ATTENTION", "needs attention"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="credit_transfers")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="credit_transfers")
    transfer_id = models.CharField(max_length=128)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Set before DepositFromCredit is sent, with the order's credit total Balance showed just before
    # (read under the contract's lock): an unknown outcome is resolved by reading it again.
    deposit_call_started_at = models.DateTimeField(null=True, blank=True)
    credit_total_before = models.BigIntegerField(null=True, blank=True)
    balance_invoice_id = models.BigIntegerField(null=True, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    attention_reason = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "credit_transfer"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "transfer_id"], name="credit_transfer_uk"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_transfer_amount_positive"),
        ]
        indexes = [models.Index(fields=["contract"], name="credit_transfer_pending_idx", condition=Q(status="PENDING"))]

    def __str__(self) -> str:
        return self.transfer_id
