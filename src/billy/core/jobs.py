"""Reads of the task queue for operators: jobs that failed for good and jobs being retried."""

from __future__ import annotations

from dataclasses import dataclass

from procrastinate.contrib.django.models import ProcrastinateJob

from .models import JobError


@dataclass(frozen=True)
class JobTrouble:
    failed: int  # gave up: wait for an operator's retry
    retrying: int  # failed at least once, queued to run again
    latest_failed: list[ProcrastinateJob]  # newest first, each with `last_error` (a JobError or None)


def job_trouble(*, limit: int) -> JobTrouble:
    """How many jobs failed for good or are being retried, and the latest failed ones with their
    errors; three queries on partial indexes (the queue's history can be long)."""
    failed = ProcrastinateJob.objects.filter(status="failed")
    latest = list(failed.order_by("-id")[:limit])
    errors = JobError.objects.in_bulk([job.id for job in latest])
    for job in latest:
        job.last_error = errors.get(job.id)
    return JobTrouble(
        failed=failed.count(),
        retrying=ProcrastinateJob.objects.filter(status="todo", attempts__gt=0).count(),
        latest_failed=latest,
    )
