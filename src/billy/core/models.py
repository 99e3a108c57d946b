from django.db import models
from procrastinate.contrib.django.models import ProcrastinateJob


class FailedJob(ProcrastinateJob):
    """Jobs that gave up (a refusal retrying cannot fix, or a retry limit): the admin lists them and
    retries them on an operator's word."""

    class Meta:
        proxy = True
        verbose_name = "failed job"


class JobError(models.Model):
    """The last error of a job's attempt, written by the worker as the attempt fails (Procrastinate
    keeps no error of its own): the admin shows it next to failed and retrying jobs. Gone with its job."""

    job = models.OneToOneField(
        ProcrastinateJob,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,  # the migration adds the foreign key ON DELETE CASCADE
        related_name="error",
    )
    error = models.CharField(max_length=512, help_text="Exception type and message.")
    traceback = models.TextField(blank=True)
    attempt = models.PositiveIntegerField(help_text="The attempt that failed (1 for the first).")
    failed_at = models.DateTimeField()

    class Meta:
        db_table = "job_error"

    def __str__(self) -> str:
        return f"job {self.job_id}: {self.error}"
