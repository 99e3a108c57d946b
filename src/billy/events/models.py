from django.db import models

from billy.workspaces.models import Workspace


class Xid8Field(models.BigIntegerField):
    """PostgreSQL's 64-bit transaction id (`xid8`), filled by the database with the writer's id."""

    def db_type(self, connection):
        return "xid8"

    def from_db_value(self, value, expression, connection):
        return None if value is None else int(value)


class Event(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=64)
    # The version of the type's payload schema (see registry.py).
    version = models.PositiveSmallIntegerField(db_default=1)
    xid = Xid8Field(db_default=models.Func(function="pg_current_xact_id"), editable=False)
    data = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        db_table = "event"
        indexes = [models.Index(fields=["workspace", "xid", "id"], name="event_feed_idx")]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"
