from django.db import models

from billy.workspaces.models import Workspace


class RelayCursor(models.Model):
    """How far the relay has published one workspace's feed to one stream: every event up to
    (after_xid, after_event_id), as the feed orders them, is acknowledged by the broker."""

    stream = models.CharField(max_length=64)
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    after_xid = models.BigIntegerField(default=0)
    after_event_id = models.BigIntegerField(default=0)
    # Repeats included: a batch published again after a crash counts again, though the stream drops
    # its messages (their ids it holds), so this may exceed the events in the stream.
    published_count = models.BigIntegerField(
        "events acknowledged",
        default=0,
        help_text="Events the broker acknowledged so far, repeats it dropped by message id included.",
    )
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "relay_cursor"
        constraints = [models.UniqueConstraint(fields=["stream", "workspace"], name="relay_cursor_once")]

    def __str__(self) -> str:
        return f"{self.stream} / workspace #{self.workspace_id}"


class RelayStream(models.Model):
    """The stream the relay's cursors for it were moved against, by the broker's identity of it (its
    creation time). A stream with another identity (deleted and made again) holds none of what the
    cursors passed: they are deleted, and this row changed, in one transaction before any publish."""

    stream = models.CharField(max_length=64, unique=True)
    identity = models.CharField(max_length=100, null=True)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "relay_stream"

    def __str__(self) -> str:
        return f"{self.stream} ({self.identity})"
