"""The configuration link goes through the real worker (`billy worker`) after a failed attempt."""

import subprocess

from procrastinate.contrib.django.models import ProcrastinateJob

from billy.clients import operations
from billy.clients.models import Client
from tests.conftest import NOW, START_TIMEOUT, TEST_BALANCE_TIMEOUT, billy_process


def test_worker_completes_a_failed_configuration_link(workspace, balance, balance_control, balance_emulator):
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
    assert Client.objects.get().configuration_linked_at is None

    worker = billy_process(
        "worker",
        "--one-shot",
        "--queues",
        "balance",
        env={"BALANCE_URL": balance_emulator.url, "BALANCE_TIMEOUT": str(TEST_BALANCE_TIMEOUT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = worker.communicate(timeout=START_TIMEOUT)

    assert worker.returncode == 0, output
    assert Client.objects.get(pk=client.pk).configuration_linked_at is not None
    assert balance_control.clients()[0]["links"] == [{"integration": "c2b", "configuration": "c2b_default"}]
    job = ProcrastinateJob.objects.get(task_name="billy.clients.link_client_configuration")
    assert job.status == "succeeded"
