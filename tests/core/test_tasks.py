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


def _job(attempts: int):
    from procrastinate.jobs import Job

    return Job(id=1, queue="janitor", lock=None, queueing_lock=None, task_name="t", attempts=attempts)


def test_a_periodic_janitor_that_lost_the_database_runs_again_and_any_other_error_fails_it():
    import psycopg

    from billy.core.tasks import JANITOR_RETRY

    lost = psycopg.OperationalError("server closed the connection unexpectedly")
    assert JANITOR_RETRY.get_retry_decision(exception=lost, job=_job(0)) is not None
    assert JANITOR_RETRY.get_retry_decision(exception=lost, job=_job(2)) is not None
    assert JANITOR_RETRY.get_retry_decision(exception=lost, job=_job(3)) is None
    assert JANITOR_RETRY.get_retry_decision(exception=ValueError("a bug"), job=_job(0)) is None


def test_every_periodic_task_retries_a_lost_database():
    from procrastinate.contrib.django import app

    from billy.core.tasks import JANITOR_RETRY

    periodic = {periodic_task.task.name for periodic_task in app.periodic_registry.periodic_tasks.values()}
    assert periodic, "no periodic task found"
    for name in periodic:
        assert app.tasks[name].retry_strategy is JANITOR_RETRY, name
