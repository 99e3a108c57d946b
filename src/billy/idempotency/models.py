from django.db import models

from billy.workspaces.models import Workspace


class IdempotencyKey(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    operation = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request as billy understood it.")
    # What the key's first call created, known before its answer is (a retry that resumes the call
    # then still answers as the creator).
    resource_id = models.CharField(max_length=64, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "idempotency_key"
        constraints = [models.UniqueConstraint(fields=["workspace", "operation", "key"], name="idempotency_key_uk")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created_idx")]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"
