"""Payers and contracts of a client, each named by the consumer's own id, and each made in Balance
write first (`payer_call_started_at`, `offer_call_started_at`: while set, the object may exist in
Balance with the row's fields; see `billy.core.write_first`).

A contract is PENDING until Balance has opened its personal account and billy has bound the
client's wallet to the account's wallet order; then ACTIVE. The contract row is also the wallet
order's booking record: `booked_paid` and `booked_credit` are the order's paid and credit totals
billy has booked onto the wallet, changed only with the ledger posting of the difference, under the
row's lock (`billy.moneyin.booking`).
"""

from django.db import models
from django.db.models import Q

from billy.clients.models import Client
from billy.workspaces.models import Workspace


class Payer(models.Model):
    class Type(models.TextChoices):
        LEGAL = "LEGAL", "legal entity"
        INDIVIDUAL = "INDIVIDUAL", "individual"

    class Status(models.TextChoices):
        PENDING = "PENDING", "pending"  # not yet in Balance
        ACTIVE = "ACTIVE", "active"  # a person in Balance
        NEEDS_ATTENTION = "NEEDS_ATTENTION", "needs attention"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="payers")
    payer_id = models.CharField(max_length=128)
    type = models.CharField(max_length=16, choices=Type.choices)
    name = models.CharField(max_length=256)
    long_name = models.CharField(max_length=512, blank=True)
    inn = models.CharField(max_length=12)
    kpp = models.CharField(max_length=9, blank=True)
    email = models.CharField(max_length=128)
    phone = models.CharField(max_length=32)
    legal_address = models.CharField(max_length=512)
    postal_address = models.CharField(max_length=512, blank=True)
    bik = models.CharField(max_length=9, blank=True)
    bank_account = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    balance_person_id = models.BigIntegerField(null=True, blank=True)
    payer_call_started_at = models.DateTimeField(null=True, blank=True)
    attention_reason = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "payer"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "payer_id"], name="payer_uk"),
            models.UniqueConstraint(fields=["balance_person_id"], name="payer_balance_uk"),
            models.CheckConstraint(
                condition=Q(status="PENDING", balance_person_id__isnull=True)
                | Q(status="ACTIVE", balance_person_id__isnull=False)
                | Q(status="NEEDS_ATTENTION"),
                name="payer_status_balance_id",
            ),
        ]
        indexes = [models.Index(fields=["client", "-created_at", "-id"], name="payer_client_created_idx")]

    def __str__(self) -> str:
        return f"{self.payer_id} ({self.name})"


class Contract(models.Model):
    class PaymentType(models.TextChoices):
        PREPAY = "PREPAY", "prepay"
        POSTPAY = "POSTPAY", "postpay"

    class Status(models.TextChoices):
        PENDING = "PENDING", "pending"  # not yet in Balance, or its personal account not yet bound
        ACTIVE = "ACTIVE", "active"  # the wallet is bound to the personal account's wallet order
        NEEDS_ATTENTION = "NEEDS_ATTENTION", "needs attention"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="contracts")
    contract_id = models.CharField(max_length=128)
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="contracts")
    payment_type = models.CharField(max_length=16, choices=PaymentType.choices)
    currency = models.CharField(max_length=3)
    credit_limit = models.BigIntegerField(default=0)
    payment_term_days = models.PositiveIntegerField(null=True, blank=True)
    start_date = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    balance_contract_id = models.BigIntegerField(null=True, blank=True)
    number = models.CharField(max_length=64, blank=True, help_text="Balance's contract number.")
    personal_account_id = models.BigIntegerField(null=True, blank=True)
    personal_account_number = models.CharField(max_length=64, blank=True)
    wallet_order_id = models.BigIntegerField(null=True, blank=True)
    booked_paid = models.BigIntegerField(default=0, help_text="The order's paid total booked onto the wallet.")
    booked_credit = models.BigIntegerField(default=0, help_text="The order's credit total booked onto the wallet.")
    offer_call_started_at = models.DateTimeField(null=True, blank=True)
    attention_reason = models.TextField(blank=True)
    bound_at = models.DateTimeField(null=True, blank=True)
    last_booked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "contract"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "contract_id"], name="contract_uk"),
            # One wallet per client, one contract per currency feeding it.
            models.UniqueConstraint(fields=["client", "currency"], name="contract_one_per_currency"),
            models.UniqueConstraint(fields=["balance_contract_id"], name="contract_balance_uk"),
            models.UniqueConstraint(fields=["wallet_order_id"], name="contract_wallet_order_uk"),
            models.CheckConstraint(
                condition=Q(status="ACTIVE", wallet_order_id__isnull=False, balance_contract_id__isnull=False)
                | ~Q(status="ACTIVE"),
                name="contract_active_is_bound",
            ),
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0, booked_paid__gte=0, booked_credit__gte=0),
                name="contract_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(payment_type="POSTPAY") | Q(credit_limit=0), name="contract_credit_is_postpay"
            ),
        ]
        indexes = [
            models.Index(fields=["client", "-created_at", "-id"], name="contract_client_created_idx"),
            models.Index(fields=["status"], name="contract_unbound_idx", condition=~Q(status="ACTIVE")),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} ({self.get_payment_type_display()}, {self.currency})"
