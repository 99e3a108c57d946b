from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from billy.events.models import Event
from billy.workspaces.models import Workspace


class WebhookEndpoint(models.Model):
    """An integrator's URL that billy posts events to, with the event types it wants (none: all)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    url = models.CharField(max_length=2048)
    event_types = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    enabled = models.BooleanField(default=True)
    # The feed position this endpoint is done with (delivered, given up, or not wanted): the next
    # delivery is the first wanted event after (after_xid, after_event_id), as the feed orders them.
    after_xid = models.BigIntegerField()
    after_event_id = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "webhook_endpoint"
        indexes = [models.Index(fields=["workspace", "-id"], name="webhook_endpoint_ws_idx")]

    def __str__(self) -> str:
        return f"{self.url} (#{self.pk})"


class WebhookSecret(models.Model):
    """A signing secret. The current one has no `expires_at`; a rotation sets the old one's to the
    end of the overlap, and until then deliveries are signed with both."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="secrets")
    # Kept as it is, since signing needs it; never shown after the answer that created it.
    secret = models.CharField(max_length=128)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "webhook_secret"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint"], condition=Q(expires_at__isnull=True), name="webhook_secret_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"secret #{self.pk} of endpoint #{self.endpoint_id}"


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "pending"
        DELIVERED = "DELIVERED", "delivered"
        GIVEN_UP = "GIVEN_UP", "given up"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When it was delivered or given up.")

    class Meta:
        db_table = "webhook_delivery"
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["endpoint", "-id"], name="webhook_delivery_endpoint_idx")]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once"),
            # Feed order per endpoint: its next event waits until this one is delivered or given up.
            models.UniqueConstraint(
                fields=["endpoint"], condition=Q(status="PENDING"), name="webhook_delivery_one_pending"
            ),
            models.CheckConstraint(
                condition=Q(status="PENDING", finished_at__isnull=True)
                | (~Q(status="PENDING") & Q(finished_at__isnull=False)),
                name="webhook_delivery_finished",
            ),
        ]

    def __str__(self) -> str:
        return f"delivery #{self.pk} of event #{self.event_id}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: written before the call, its outcome after it (none: the call's
    outcome was never recorded, e.g. the worker died during it)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    replay = models.BooleanField(default=False, help_text="Asked for by a manual replay.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The receiver's HTTP status.")
    error = models.CharField(max_length=512, blank=True, help_text="Why there is no status (timeout, refused, ...).")
    latency_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        db_table = "webhook_attempt"
        indexes = [models.Index(fields=["delivery", "id"], name="webhook_attempt_delivery_idx")]

    def __str__(self) -> str:
        return f"attempt #{self.pk}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
