import functools
import operator

from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import F, Q

from billy.clients.models import Client
from billy.core.money import format_amount
from billy.workspaces.models import Workspace


class Account(models.Model):
    class Kind(models.TextChoices):
        WALLET = "WALLET", "wallet"  # a client's money
        REVENUE = "REVENUE", "revenue"  # what clients were charged (consumption)
        CORRECTIONS = "CORRECTIONS", "corrections"  # the other side of operator adjustments
        # Card money the payment provider collected for the workspace and has yet to pay out.
        CLEARING = "CLEARING", "provider clearing"
        # Money clients paid into their Balance personal accounts, booked onto wallets.
        BALANCE_RECEIPTS = "BALANCE_RECEIPTS", "Balance receipts"
        # Money moved onto wallets from their postpay contracts' credit limits.
        BALANCE_CREDIT = "BALANCE_CREDIT", "Balance credit"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    client = models.OneToOneField(Client, on_delete=models.PROTECT, null=True, blank=True, related_name="wallet")
    currency = models.CharField(max_length=3)
    # Running figures, kept for wallets only.
    balance = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)
    credit_limit = models.BigIntegerField(default=0)
    # Credit taken from the limit and not yet repaid to Balance (reserved before a deposit is asked for).
    credit_used = models.BigIntegerField(default=0)
    net_consumption = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "ledger_account"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="WALLET", client__isnull=False) | (~Q(kind="WALLET") & Q(client__isnull=True)),
                name="account_wallet_has_client",
            ),
            models.CheckConstraint(
                condition=~Q(kind="WALLET") | (Q(held__gte=0) & Q(balance__gte=F("held"))),
                name="account_available_not_negative",
            ),
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="account_credit_limit_not_negative"),
            models.CheckConstraint(condition=Q(credit_used__gte=0), name="account_credit_used_not_negative"),
            models.UniqueConstraint(
                fields=["workspace", "kind", "currency"],
                condition=Q(client__isnull=True),
                name="account_one_system_account",
            ),
            models.UniqueConstraint(fields=["id", "currency"], name="account_id_currency"),
        ]

    def __str__(self) -> str:
        # Lists that show accounts select their client and workspace with them.
        if self.kind == self.Kind.WALLET:
            return f"wallet of {self.client.service_client_id} ({self.currency})"
        return f"{self.get_kind_display()} of {self.workspace.name} ({self.currency})"


# What made a ledger transaction, by the ids its API shows (the ledger knows them only as text): each
# kind names its own, and the database refuses a transaction that does not.
_SOURCE_KEYS = {
    "CHARGE": ("charge_id",),
    "REFUND": ("charge_id", "refund_id"),
    "ADJUSTMENT": ("adjustment_id",),
    "CARD_PAYMENT": ("subscription_id", "payment_id"),
    "CARD_REFUND": ("subscription_id", "payment_id", "refund_id"),
    "TOP_UP": ("wallet_order_id",),
    "CREDIT": ("wallet_order_id",),
    "FAMILY_SPENDING": ("family_id", "spending_id"),
    "FAMILY_REFUND": ("family_id", "spending_id", "refund_id"),
}


class LedgerTransaction(models.Model):
    class Kind(models.TextChoices):
        ADJUSTMENT = "ADJUSTMENT", "adjustment"
        CHARGE = "CHARGE", "charge"
        REFUND = "REFUND", "refund"
        CARD_PAYMENT = "CARD_PAYMENT", "card payment"
        CARD_REFUND = "CARD_REFUND", "card refund"
        TOP_UP = "TOP_UP", "top-up"  # money paid into the wallet order in Balance
        CREDIT = "CREDIT", "credit"  # money moved onto the wallet order from the credit limit
        FAMILY_SPENDING = "FAMILY_SPENDING", "family card spending"
        FAMILY_REFUND = "FAMILY_REFUND", "family card refund"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.CharField(max_length=256, blank=True)
    source = models.JSONField(help_text='What made it, e.g. {"charge_id": "order-42"} (see _SOURCE_KEYS).')
    created_at = models.DateTimeField()

    class Meta:
        db_table = "ledger_transaction"
        constraints = [
            models.CheckConstraint(
                condition=functools.reduce(
                    operator.or_, (Q(kind=kind, source__has_keys=list(keys)) for kind, keys in _SOURCE_KEYS.items())
                ),
                name="transaction_names_its_source",
            )
        ]
        # Appended in time order: a tiny block-range index finds a period's transactions (the
        # console's daily figures, the admin's date drill-down) without reading the whole ledger.
        indexes = [BrinIndex(fields=["created_at"], name="transaction_created_brin")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Entry(models.Model):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    # Positive credits the account (adds to its balance), negative debits it.
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "ledger_entry"
        verbose_name_plural = "entries"
        indexes = [
            models.Index(fields=["account", "-id"], name="entry_account_idx"),
            # Appended in time order, like their transactions (see LedgerTransaction).
            BrinIndex(fields=["created_at"], name="entry_created_brin"),
        ]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero")]

    def __str__(self) -> str:
        sign = "+" if self.amount > 0 else ""
        return f"{sign}{format_amount(self.amount)} {self.currency} in transaction #{self.transaction_id}"


class Adjustment(models.Model):
    """An operator's correction of a wallet, named by the operator's `adjustment_id`."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    adjustment_id = models.CharField(max_length=128)
    wallet = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="adjustments")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=512)
    transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, related_name="adjustment")
    created_by = models.CharField(max_length=128)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "ledger_adjustment"
        constraints = [
            models.UniqueConstraint(fields=["workspace", "adjustment_id"], name="adjustment_id_uk"),
            models.CheckConstraint(condition=~Q(amount=0), name="adjustment_amount_not_zero"),
        ]

    def __str__(self) -> str:
        return self.adjustment_id


class SpendingLimit(models.Model):
    """A cap on what one spender (a family member) may spend on a shared card per frame (a calendar
    month in the workspace's time zone); `amount` null is no cap. What was used lives in
    `LimitUsage`, one row per frame; `billy.ledger.limits` is the one place that moves it, under
    this row's lock, so concurrent spendings can never take it past the cap together."""

    class Frame(models.TextChoices):
        MONTH = "MONTH", "month"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(null=True, blank=True, help_text="Minor units; empty: unlimited.")
    frame = models.CharField(max_length=8, choices=Frame.choices, default=Frame.MONTH)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "ledger_spending_limit"
        constraints = [
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="limit_not_negative")
        ]

    def __str__(self) -> str:
        cap = "unlimited" if self.amount is None else f"{format_amount(self.amount)} {self.currency}"
        return f"limit #{self.pk}: {cap} a {self.get_frame_display()}"


class LimitUsage(models.Model):
    """What a limit's spender used in one frame: `held` (holds not yet cleared or released) and
    `spent` (cleared minus refunded). Usage = held + spent."""

    limit = models.ForeignKey(SpendingLimit, on_delete=models.PROTECT, related_name="usages")
    frame_start = models.DateTimeField()
    held = models.BigIntegerField(default=0)
    spent = models.BigIntegerField(default=0)

    class Meta:
        db_table = "ledger_limit_usage"
        constraints = [
            models.UniqueConstraint(fields=["limit", "frame_start"], name="limit_usage_one_per_frame"),
            models.CheckConstraint(condition=Q(held__gte=0) & Q(spent__gte=0), name="limit_usage_not_negative"),
        ]

    def __str__(self) -> str:
        return f"usage of limit #{self.limit_id} from {self.frame_start:%Y-%m-%d}"
