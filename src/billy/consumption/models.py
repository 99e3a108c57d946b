from django.db import models
from django.db.models import Q

from billy.clients.models import Client
from billy.ledger.models import Account
from billy.workspaces.models import Workspace


class OrderReport(models.Model):
    """A wallet bound to its Balance wallet order, and what billy last told Balance about it.

    `reported_total` is the last cumulative total Balance accepted; the wallet's `net_consumption`
    is billy's. The difference is the reporting lag. `balance_total` is what Balance last showed as
    consumed (GetOrdersInfo, read by reconciliation)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    wallet = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="order_report")
    order_id = models.BigIntegerField(help_text="Balance's wallet order.")
    reported_total = models.BigIntegerField(default=0)
    reported_as_of = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    # A total Balance refused (a decrease after a refund): not sent again until the total moves.
    refused_total = models.BigIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Reports Balance refused in a row for this order alone (not a decrease): it is tried again from
    # `retry_at`, later each time, instead of every run.
    refusals = models.IntegerField(default=0, db_default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    balance_total = models.BigIntegerField(null=True, blank=True)
    balance_read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "consumption_order"
        constraints = [
            models.UniqueConstraint(fields=["order_id"], name="consumption_order_uk"),
            models.CheckConstraint(condition=Q(reported_total__gte=0), name="consumption_order_reported_not_negative"),
        ]
        indexes = [models.Index(fields=["workspace", "id"], name="consumption_order_ws_idx")]

    def __str__(self) -> str:
        return f"order {self.order_id}"


class Report(models.Model):
    """One cumulative total sent to Balance for an order, as of a moment, and Balance's answer.
    Append-only: "what billy reported as of a moment" is the last accepted one before it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    wallet = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    order_id = models.BigIntegerField()
    consumed_total = models.BigIntegerField()
    as_of = models.DateTimeField()
    sent_at = models.DateTimeField()
    code = models.CharField(max_length=32, help_text="Balance's answer: SUCCESS, CONSUMPTION_DECREASE, ...")

    class Meta:
        db_table = "consumption_report"
        indexes = [models.Index(fields=["wallet", "as_of", "id"], name="consumption_report_wallet_idx")]

    def __str__(self) -> str:
        return f"order {self.order_id}: {self.consumed_total} as of {self.as_of:%Y-%m-%d %H:%M:%S}"


class Act(models.Model):
    """An act Balance formed for a client's wallet order for a month (dated the month's last day).
    Append-only: fetched again, it is the same row."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="acts")
    balance_act_id = models.BigIntegerField()
    number = models.CharField(max_length=64, help_text="Balance's act number.")
    act_date = models.DateField()
    amount = models.BigIntegerField()
    vat = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    balance_contract_id = models.BigIntegerField()
    order_id = models.BigIntegerField()
    fetched_at = models.DateTimeField()

    class Meta:
        db_table = "consumption_act"
        ordering = ["-act_date", "-id"]
        constraints = [models.UniqueConstraint(fields=["balance_act_id"], name="consumption_act_uk")]
        indexes = [
            models.Index(fields=["client", "act_date"], name="consumption_act_client_idx"),
            models.Index(fields=["workspace", "order_id", "act_date"], name="consumption_act_order_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class Reconciliation(models.Model):
    """One run of a workspace's month reconciliation: the totals, and a line per client."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(help_text="The month's first day.")
    clients = models.IntegerField(default=0)
    mismatches = models.IntegerField(default=0)
    ledger_total = models.BigIntegerField(default=0)
    reported_total = models.BigIntegerField(default=0)
    act_total = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "consumption_reconciliation"
        ordering = ["-month", "-id"]
        indexes = [models.Index(fields=["workspace", "month", "-id"], name="reconciliation_month_idx")]

    def __str__(self) -> str:
        return f"{self.workspace.name} {self.month:%Y-%m} (#{self.pk})"


class Reason(models.TextChoices):
    NOT_YET_REPORTED = "NOT_YET_REPORTED", "not yet reported"
    DECREASE_REFUSED = "DECREASE_REFUSED", "a decrease Balance refused"
    REPORTED_LATE = "REPORTED_LATE", "reported late (into the next act)"
    CHANGED_IN_BALANCE = "CHANGED_IN_BALANCE", "changed in Balance"
    MISSING_ACT = "MISSING_ACT", "missing act"
    UNKNOWN = "UNKNOWN", "unknown"


class ReconciliationLine(models.Model):
    """A client's month: billy's ledger consumption, what billy reported for the month, the act,
    Balance's consumed total against billy's last report, and each difference with its reason
    (`differences`: [{"reason", "amount"}], amount = billy's side minus Balance's)."""

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="lines")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    order_id = models.BigIntegerField()
    ledger = models.BigIntegerField()
    reported = models.BigIntegerField()
    act = models.BigIntegerField(null=True, blank=True)
    balance_total = models.BigIntegerField(null=True, blank=True)
    reported_total = models.BigIntegerField()
    differences = models.JSONField(default=list)
    mismatch = models.BooleanField()

    class Meta:
        db_table = "consumption_reconciliation_line"
        indexes = [
            models.Index(fields=["reconciliation", "client"], name="reconciliation_line_idx"),
            models.Index(
                fields=["reconciliation", "id"], name="reconciliation_mismatch_idx", condition=Q(mismatch=True)
            ),
        ]

    def __str__(self) -> str:
        return f"line #{self.pk}"
