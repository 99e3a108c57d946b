"""The one `defer` helper: jobs are deferred by their task's name, with the task's own settings."""

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from billy.core.tasks import defer


def test_a_job_is_deferred_by_its_tasks_name_with_the_tasks_queue(db):
    job_id = defer("billy.subscriptions.submit_refund", refund_id="r-1")

    job = ProcrastinateJob.objects.get(pk=job_id)
    assert (job.task_name, job.queue_name, job.args) == (
        "billy.subscriptions.submit_refund",
        "payments",
        {"refund_id": "r-1"},
    )


def test_a_name_no_task_has_is_refused_and_defers_nothing(db):
    before = ProcrastinateJob.objects.count()

    with pytest.raises(LookupError):
        defer("billy.subscriptions.no_such_task", refund_id="r-1")

    assert ProcrastinateJob.objects.count() == before
