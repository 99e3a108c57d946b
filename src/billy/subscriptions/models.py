import datetime as dt

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from billy.core.money import format_amount
from billy.ledger.models import LedgerTransaction
from billy.workspaces.models import Workspace


class Plan(models.Model):
    class Period(models.TextChoices):
        MONTH = "MONTH", "month"
        YEAR = "YEAR", "year"

    class RefundPolicy(models.TextChoices):
        FULL = "FULL", "full within N days"
        PRORATED = "PRORATED", "prorated by unused days"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="plans")
    code = models.CharField(max_length=64)
    title = models.CharField(max_length=128)
    price = models.BigIntegerField(help_text="Minor units (kopecks).")
    currency = models.CharField(max_length=3, default="RUB")
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.MONTH)
    refund_policy = models.CharField(max_length=16, choices=RefundPolicy.choices, default=RefundPolicy.FULL)
    refund_days = models.PositiveIntegerField(
        default=14, help_text="For the full policy: days from the period's start during which a refund is allowed."
    )
    role = models.CharField(
        max_length=64, default="subscriber", help_text="Role granted in the Auth API while the subscription is active."
    )
    is_active = models.BooleanField(default=True, help_text="Only active plans can be subscribed to.")
    created_at = models.DateTimeField()

    class Meta:
        db_table = "plan"
        ordering = ["workspace_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "code"], name="plan_code_uk"),
            models.CheckConstraint(condition=Q(price__gt=0), name="plan_price_positive"),
            models.CheckConstraint(condition=Q(code__regex=r"^[a-z0-9][a-z0-9_.-]{0,63}$"), name="plan_code_format"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.title}"


class Subscription(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", "pending payment"
        ACTIVE = "ACTIVE", "active"
        PAST_DUE = "PAST_DUE", "past due (renewal declined, retrying)"
        CANCELED = "CANCELED", "canceled (payment failed)"
        EXPIRED = "EXPIRED", "expired"
        REFUNDED = "REFUNDED", "refunded"

    id = models.UUIDField(primary_key=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    user_id = models.CharField(max_length=128)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Half-open [period_start, period_end): the prospective period while PENDING, the paid one from activation.
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Renewal: the paid period's number (1 for the first), whether the next one is bought with the
    # saved card, the provider's id of that card, and when billy next tries (null: nothing planned).
    period_number = models.PositiveIntegerField(default=1)
    renews = models.BooleanField(default=True, help_text="Renewal on: the saved card pays for the next period.")
    payment_method_id = models.CharField(
        max_length=64, blank=True, help_text="The provider's saved payment method (empty: the card was not saved)."
    )
    card_last4 = models.CharField(max_length=4, blank=True)
    next_renewal_at = models.DateTimeField(null=True, blank=True)
    # Dunning: declined attempts to pay for the next period, and when the first of them was declined.
    renewal_failures = models.PositiveIntegerField(default=0)
    past_due_since = models.DateTimeField(null=True, blank=True)
    # What the Auth API was last told, written by the grant/revoke jobs.
    role_granted_at = models.DateTimeField(null=True, blank=True)
    role_revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "subscription"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workspace", "user_id", "-created_at"], name="subscription_user_idx"),
            models.Index(fields=["period_end"], condition=Q(status="ACTIVE"), name="subscription_active_end_idx"),
            models.Index(
                fields=["next_renewal_at"],
                condition=Q(status__in=["ACTIVE", "PAST_DUE"], next_renewal_at__isnull=False),
                name="subscription_renewal_due_idx",
            ),
        ]
        constraints = [
            # One payment in flight per user and plan: a second subscribe returns the first.
            models.UniqueConstraint(
                fields=["workspace", "user_id", "plan"], condition=Q(status="PENDING"), name="subscription_one_pending"
            ),
            models.UniqueConstraint(
                fields=["workspace", "user_id", "plan"],
                condition=Q(status__in=["ACTIVE", "PAST_DUE"]),
                name="subscription_one_active",
            ),
            models.CheckConstraint(condition=Q(period_end__gt=F("period_start")), name="subscription_period_order"),
        ]

    def __str__(self) -> str:
        return f"subscription of {self.user_id} ({str(self.id)[:8]})"

    @property
    def paid_period(self) -> tuple[dt.datetime, dt.datetime] | None:
        """[start, end) once the subscription has started; None before (PENDING, or CANCELED unpaid):
        the stored period of a subscription that has not started is only a prospect."""
        return (self.period_start, self.period_end) if self.activated_at is not None else None

    def latest_payment(self) -> "SubscriptionPayment | None":
        """The newest payment (from prefetched payments when there are)."""
        return max(self.payments.all(), key=lambda p: (p.period, p.attempt, p.created_at), default=None)

    def current_payment(self) -> "SubscriptionPayment | None":
        """The payment of the paid period, the one the refund policy applies to."""
        return next(
            (p for p in self.payments.all() if p.period == self.period_number and p.status == "SUCCEEDED"), None
        )


class SubscriptionPayment(models.Model):
    """A card payment at the provider for one period of a subscription; its id is the provider call's
    Idempotence-Key. A renewal's id is derived from (subscription, period, attempt), and at most one
    payment of a period is open or succeeded: a second charge for a period cannot exist."""

    class Status(models.TextChoices):
        NEW = "NEW", "new (provider call not confirmed)"
        PENDING = "PENDING", "pending (waiting for the payer)"
        SUCCEEDED = "SUCCEEDED", "succeeded"
        FAILED = "FAILED", "failed"

    id = models.UUIDField(primary_key=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="payments")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    # The provider request is rebuilt from these on every retry: they never change.
    description = models.CharField(max_length=128)
    return_url = models.URLField(max_length=2048)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    period = models.PositiveIntegerField(default=1, help_text="The subscription's period this pays for (1: the first).")
    attempt = models.PositiveIntegerField(default=1, help_text="The try at paying for the period (dunning retries).")
    save_payment_method = models.BooleanField(default=False, help_text="The provider is asked to save the card.")
    payment_method_id = models.CharField(max_length=64, blank=True, help_text="The saved method charged (renewals).")
    provider_payment_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    provider_status = models.CharField(max_length=32, blank=True)
    confirmation_url = models.URLField(max_length=2048, blank=True)
    failure_reason = models.CharField(max_length=128, blank=True)
    first_attempt_at = models.DateTimeField(null=True, blank=True, help_text="First call to the provider.")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=512, blank=True)
    transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="subscription_payment"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "subscription_payment"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["updated_at"], condition=Q(status__in=["NEW", "PENDING"]), name="payment_open_idx")
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="SUCCEEDED") | Q(transaction__isnull=False), name="payment_succeeded_posted"
            ),
            models.UniqueConstraint(fields=["subscription", "period", "attempt"], name="payment_period_attempt_uk"),
            # Never two charges for one period: one payment of it in flight or succeeded.
            models.UniqueConstraint(
                fields=["subscription", "period"],
                condition=Q(status__in=["NEW", "PENDING", "SUCCEEDED"]),
                name="payment_one_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"payment of {format_amount(self.amount)} {self.currency} ({str(self.id)[:8]})"


class SubscriptionRefund(models.Model):
    """A refund of a subscription's payment; its id is the provider call's Idempotence-Key."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "pending"
        SUCCEEDED = "SUCCEEDED", "succeeded"
        FAILED = "FAILED", "failed"

    id = models.UUIDField(primary_key=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(SubscriptionPayment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=256, blank=True)
    requested_by = models.CharField(max_length=128)
    automatic = models.BooleanField(
        default=False, help_text="Made by billy for money the subscription could not take (paid after it ended)."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    provider_refund_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    provider_status = models.CharField(max_length=32, blank=True)
    failure_reason = models.CharField(max_length=128, blank=True)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=512, blank=True)
    transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="subscription_refund"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "subscription_refund"
        ordering = ["-created_at"]
        constraints = [
            # Never twice: at most one refund in flight or done per payment.
            models.UniqueConstraint(
                fields=["payment"], condition=Q(status__in=["PENDING", "SUCCEEDED"]), name="refund_one_per_payment"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="subscription_refund_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="SUCCEEDED") | Q(transaction__isnull=False), name="refund_succeeded_posted"
            ),
        ]

    def __str__(self) -> str:
        return f"refund of {format_amount(self.amount)} {self.currency} ({str(self.id)[:8]})"


class ProviderNotification(models.Model):
    """A webhook as received: stored first, deduplicated by (event, object id), processed by a job."""

    class Status(models.TextChoices):
        RECEIVED = "RECEIVED", "received"
        PROCESSED = "PROCESSED", "processed"
        IGNORED = "IGNORED", "ignored (unknown to billy or the provider)"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(max_length=16, default="yookassa")
    event = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    body = models.TextField(help_text="The raw notification, as delivered the first time.")
    remote_addr = models.CharField(max_length=64, blank=True)
    deliveries = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    outcome = models.CharField(max_length=256, blank=True)
    received_at = models.DateTimeField()
    last_received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "provider_notification"
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "provider", "event", "object_id"], name="notification_uk")
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.object_id}"


class IgnoredNotification(models.Model):
    """Notifications about objects billy never made, counted at the door: one row per workspace,
    provider and event, bumped by one UPSERT (no row, no job and no provider call per notification).
    A flood of forged or foreign notifications shows here, with the last few ids named."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(max_length=16, default="yookassa")
    event = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    last_object_ids = ArrayField(
        models.CharField(max_length=64), default=list, help_text="The last few object ids, newest first."
    )
    last_remote_addr = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "ignored_notification"
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "provider", "event"], name="ignored_notification_uk")
        ]

    def __str__(self) -> str:
        return f"{self.event}: {self.count} ignored"
