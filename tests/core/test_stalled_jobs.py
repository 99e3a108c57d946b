"""A job left `doing` by a worker that died is put back by the janitor and then completed."""

import asyncio
import subprocess
import types

from django.db import connection
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from billy.clients import operations
from billy.clients.models import Client
from billy.core import worker as worker_module
from billy.core.tasks import retry_stalled_jobs
from tests.conftest import NOW, START_TIMEOUT, billy_process, wait_until


def link_jobs():
    return ProcrastinateJob.objects.filter(task_name="billy.clients.link_client_configuration")


def run_janitor() -> int:
    async def run():
        async with app.open_async():
            return await retry_stalled_jobs.func(types.SimpleNamespace(app=app), timestamp=0)

    with app.replace_connector(app.connector.get_worker_connector()):
        return asyncio.run(run())


def _link_job_doing_in_a_dead_worker(workspace, balance, balance_control, balance_emulator) -> tuple[Client, dict]:
    """A client whose link job a worker took and never finished (the worker was killed mid-call)."""
    balance_control.inject("unavailable", count=1, method="LinkIntegrationToClient")
    client = operations.register_client(
        workspace=workspace,
        service_client_id="client-1",
        name="ООО Ромашка",
        email="info@romashka.ru",
        phone="+74951234567",
        balance=balance,
        now=NOW,
    ).client
    # The worker's link call will hang; the worker dies while the job is `doing`.
    balance_control.inject("delay", seconds=30, method="LinkIntegrationToClient")
    env = {"BALANCE_URL": balance_emulator.url, "BALANCE_TIMEOUT": "60"}
    worker = billy_process("worker", "--queues", "balance", env=env, stdout=subprocess.DEVNULL)
    wait_until(link_jobs().filter(status="doing").exists, worker, "the worker picking the job up")
    worker.kill()
    worker.wait()
    return client, env


def test_job_of_a_killed_worker_is_retried(workspace, balance, balance_control, balance_emulator):
    client, env = _link_job_doing_in_a_dead_worker(workspace, balance, balance_control, balance_emulator)
    with connection.cursor() as cursor:  # as if its heartbeat stopped long ago
        cursor.execute("UPDATE procrastinate_workers SET last_heartbeat = NOW() - INTERVAL '1 hour'")

    assert run_janitor() >= 1  # the link job, and any periodic job the worker had started

    assert link_jobs().get().status == "todo"
    balance_control.clear_faults()
    finisher = billy_process("worker", "--one-shot", "--queues", "balance", env=env, stdout=subprocess.DEVNULL)
    assert finisher.wait(timeout=START_TIMEOUT) == 0
    assert link_jobs().get().status == "succeeded"
    assert Client.objects.get(pk=client.pk).configuration_linked_at is not None


def test_a_stalled_job_goes_back_beside_the_job_waiting_under_its_queueing_lock(jobs_cleanup):
    from billy.webhooks.delivery import wake_endpoint

    assert wake_endpoint(endpoint_id=7)
    stalled = ProcrastinateJob.objects.get()
    with connection.cursor() as cursor:  # a worker took it, then died long ago
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (NOW() - INTERVAL '1 hour') RETURNING id"
        )
        (dead_worker,) = cursor.fetchone()
        cursor.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s", [dead_worker])
    assert wake_endpoint(endpoint_id=7)  # the next job of the endpoint waits under the queueing lock

    assert run_janitor() == 1

    jobs = {job.pk: job for job in ProcrastinateJob.objects.all()}
    assert [job.status for job in jobs.values()] == ["todo", "todo"]
    assert jobs[stalled.pk].queueing_lock is None
    assert {job.lock for job in jobs.values()} == {"webhook-endpoint:7"}, "still one at a time"


def test_jobs_of_a_worker_that_lost_the_database_run_again_once_it_reconnects(
    workspace, balance, balance_control, balance_emulator
):
    # As a worker whose job ended while the database was away: the job is still `doing` in its
    # name, and its heartbeat is fresh.
    client, env = _link_job_doing_in_a_dead_worker(workspace, balance, balance_control, balance_emulator)
    lost = link_jobs().get().worker_id
    with connection.cursor() as cursor:  # the janitor alone would not take its jobs for a long time
        cursor.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = NOW() + INTERVAL '1 hour' WHERE id = %s", [lost]
        )

    async def reconnect():
        async with app.open_async():
            await worker_module._forget_worker(lost)

    with app.replace_connector(app.connector.get_worker_connector()):
        asyncio.run(reconnect())

    balance_control.clear_faults()
    # One job at a time: the janitor puts the link job back in its queue, then the link job runs.
    finisher = billy_process(
        "worker",
        "--one-shot",
        "--queues",
        "balance,janitor",
        env={**env, "BILLY_WORKER_CONCURRENCY": "1"},
        stdout=subprocess.DEVNULL,
    )
    assert finisher.wait(timeout=START_TIMEOUT) == 0
    assert link_jobs().get().status == "succeeded"
    assert Client.objects.get(pk=client.pk).configuration_linked_at is not None


def test_the_worker_reaches_a_database_whose_url_sets_its_own_connect_timeout(transactional_db):
    import asyncio

    from procrastinate.contrib.django.utils import connector_params

    from billy.core.worker import _Supervised

    worker = _Supervised(queues=None, concurrency=1, wait=False)
    params = {**connector_params(), "connect_timeout": 7}  # as dj-database-url puts ?connect_timeout=7

    assert asyncio.run(worker._wait_for_database(params, since=None)) is True
