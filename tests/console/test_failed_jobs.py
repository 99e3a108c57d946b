"""Failed jobs in the admin: the error the worker recorded, when, after how many attempts, and a
link to what the job was about; the retry action puts it back in its queue."""

from __future__ import annotations

import re
import subprocess

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from procrastinate.contrib.django.models import ProcrastinateJob

from billy.core.models import JobError
from billy.core.tasks import defer
from tests.charges.conftest import make_client
from tests.conftest import billy_process

TASK = "billy.clients.link_client_configuration"


def fail_a_link_job(workspace, balance_control, balance_emulator) -> tuple[int, object]:
    """A real worker runs a link job that Balance refuses (a fault: no retry), so it fails for good."""
    client = make_client(workspace, "client-9")
    with transaction.atomic():
        job_id = defer(TASK, client_id=client.pk)
    balance_control.inject("fault", count=1, method="LinkIntegrationToClient", code="CLIENT_NOT_FOUND")
    worker = billy_process(
        "worker",
        "--queues",
        "balance",
        "--one-shot",
        env={"BALANCE_URL": balance_emulator.url},
        stdout=subprocess.DEVNULL,
    )
    assert worker.wait(timeout=120) == 0
    assert ProcrastinateJob.objects.get(pk=job_id).status == "failed"
    return job_id, client


def test_the_worker_records_why_a_job_failed(workspace, balance_control, balance_emulator):
    job_id, _ = fail_a_link_job(workspace, balance_control, balance_emulator)

    error = JobError.objects.get(job_id=job_id)
    assert error.error.startswith("BalanceFault: ")
    assert error.attempt == ProcrastinateJob.objects.get(pk=job_id).attempts == 1
    assert "Traceback" in error.traceback and "link_client_configuration" in error.traceback


def test_failed_jobs_list_shows_error_time_attempts_and_subject(operator, workspace, balance_control, balance_emulator):
    job_id, client = fail_a_link_job(workspace, balance_control, balance_emulator)

    listed = operator.get("/admin/core/failedjob/").content.decode()
    detail = operator.get(f"/admin/core/failedjob/{job_id}/change/").content.decode()

    row = re.search(rf'<tr>.*?value="{job_id}".*?</tr>', listed, re.S).group(0)
    assert "BalanceFault: " in row
    assert f'href="/admin/clients/client/{client.pk}/change/"' in row
    assert re.search(r'class="field-attempts">1<', row)
    failed_at = re.search(r'class="field-failed_at[^"]*">([^<]+)<', row).group(1)
    assert failed_at not in ("", "-", "—")
    assert "Traceback" in detail and 'name="_save"' not in detail


def test_retry_puts_the_job_back_and_a_new_error_replaces_the_old(
    operator, workspace, balance_control, balance_emulator
):
    job_id, _ = fail_a_link_job(workspace, balance_control, balance_emulator)

    operator.post("/admin/core/failedjob/", {"action": "retry", "_selected_action": [job_id]})
    assert ProcrastinateJob.objects.get(pk=job_id).status == "todo"
    balance_control.inject("fault", count=1, method="LinkIntegrationToClient", code="CLIENT_NOT_FOUND")
    worker = billy_process(
        "worker",
        "--queues",
        "balance",
        "--one-shot",
        env={"BALANCE_URL": balance_emulator.url},
        stdout=subprocess.DEVNULL,
    )
    assert worker.wait(timeout=120) == 0

    # The attempt as Procrastinate counts it (its retry counts one too): the job's own count.
    job = ProcrastinateJob.objects.get(pk=job_id)
    assert job.status == "failed"
    assert JobError.objects.get(job_id=job_id).attempt == job.attempts > 1


def test_failed_jobs_list_query_count_does_not_grow(operator, workspace):
    def fail(n: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for _ in range(n):
                job_id = defer(TASK, client_id=1)
                cursor.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = %s", [job_id])

    fail(2)
    with CaptureQueriesContext(connection) as few:
        assert operator.get("/admin/core/failedjob/").status_code == 200
    fail(30)
    with CaptureQueriesContext(connection) as many:
        assert operator.get("/admin/core/failedjob/").status_code == 200

    assert len(many) == len(few)
