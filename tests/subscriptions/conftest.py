"""Fixtures for card subscriptions: the three emulators on loopback, the cinema workspace and its
plans, a runner that performs queued jobs in this process, and `stack` (the real `billy serve` and
`billy worker`, for the e2e and browser tests)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections.abc import Callable

import httpx
import pytest
from django.db import connection
from procrastinate.contrib.django import app

from billy.core.money import parse_amount
from billy.integrations.auth_api.emulator import AuthEmulator, AuthEmulatorControl
from billy.integrations.notifications.emulator import NotificationsEmulator, NotificationsEmulatorControl
from billy.integrations.yookassa.emulator import YooKassaEmulator, YooKassaEmulatorControl
from billy.subscriptions.plans import ensure_plan
from billy.workspaces import operations as workspace_operations
from tests.conftest import NOW, billy_process, billy_server, make_api_key, make_workspace, wait_http

SHOP_ID = "100500"
SECRET_KEY = "test_cinema_secret"
# The adapters' read timeouts: room for a busy machine (the emulators answer in milliseconds); a
# commit_then_timeout fault hangs past them (COMMIT_THEN_TIMEOUT_SECONDS).
UPSTREAM_TIMEOUT = 3.0


@pytest.fixture(scope="session")
def yookassa_emulator():
    emulator = YooKassaEmulator(webhook_retry_seconds=0.2).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def auth_emulator():
    emulator = AuthEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def notifications_emulator():
    emulator = NotificationsEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def yookassa(yookassa_emulator, settings) -> YooKassaEmulatorControl:
    control = YooKassaEmulatorControl(yookassa_emulator.base_url)
    control.reset(webhooks=True)
    settings.YOOKASSA_TIMEOUT = UPSTREAM_TIMEOUT
    settings.YOOKASSA_CONNECT_TIMEOUT = 1.0
    return control


@pytest.fixture
def auth(auth_emulator, settings) -> AuthEmulatorControl:
    control = AuthEmulatorControl(auth_emulator.base_url)
    control.reset()
    settings.AUTH_API_URL = auth_emulator.base_url
    settings.AUTH_API_TIMEOUT = UPSTREAM_TIMEOUT
    return control


@pytest.fixture
def notifications(notifications_emulator, settings) -> NotificationsEmulatorControl:
    control = NotificationsEmulatorControl(notifications_emulator.base_url)
    control.reset()
    settings.NOTIFICATIONS_URL = notifications_emulator.base_url
    settings.NOTIFICATIONS_TIMEOUT = UPSTREAM_TIMEOUT
    return control


def make_cinema(yookassa_emulator):
    make_workspace("cinema")
    cinema = workspace_operations.configure_payment_provider(
        name="cinema", api_url=yookassa_emulator.api_url, shop_id=SHOP_ID, secret_key=SECRET_KEY
    )
    ensure_plan(
        workspace=cinema,
        code="monthly",
        title="Cinema: one month",
        price=parse_amount("299.00"),
        period="MONTH",
        refund_policy="FULL",
        refund_days=14,
        now=NOW,
    )
    ensure_plan(
        workspace=cinema,
        code="yearly",
        title="Cinema: one year",
        price=parse_amount("2990.00"),
        period="YEAR",
        refund_policy="PRORATED",
        refund_days=0,
        now=NOW,
    )
    return cinema


@pytest.fixture
def cinema(transactional_db, jobs_cleanup, yookassa_emulator, yookassa, auth, notifications):
    return make_cinema(yookassa_emulator)


@pytest.fixture
def cinema_key(cinema):
    return make_api_key("cinema")


def run_jobs(*, task_prefix: str = "billy.subscriptions.", rounds: int = 10) -> list[tuple[str, str]]:
    """Run queued jobs (scheduled ones too) in this process until none is left; returns
    (task name, outcome) for each run. A failing job is marked failed, as the worker would after
    its retries, so a test sees it."""
    ran: list[tuple[str, str]] = []
    for _ in range(rounds):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, task_name, args FROM procrastinate_jobs WHERE status = 'todo' AND task_name LIKE %s "
                "ORDER BY id",
                [task_prefix + "%"],
            )
            jobs = cursor.fetchall()
        if not jobs:
            return ran
        for job_id, task_name, args in jobs:
            task = app.tasks[task_name]
            kwargs = args if isinstance(args, dict) else json.loads(args)
            try:
                task.func(**kwargs)
                outcome = "succeeded"
            except Exception as e:
                outcome = f"failed: {type(e).__name__}: {e}"
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE procrastinate_jobs SET status = %s WHERE id = %s",
                    ["succeeded" if outcome == "succeeded" else "failed", job_id],
                )
            ran.append((task_name, outcome))
    return ran


def retry_failed_jobs(task_name: str) -> None:
    """What the worker's retry does to a failed attempt: the job is queued again."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'todo' WHERE status = 'failed' AND task_name = %s", [task_name]
        )


@dataclasses.dataclass
class Stack:
    api: httpx.Client
    worker: subprocess.Popen
    start_worker: Callable[[], subprocess.Popen]


@pytest.fixture
def stack_env() -> dict[str, str]:
    """More environment for the stack's processes: a test module overrides this fixture."""
    return {}


@pytest.fixture
def stack(cinema, yookassa, yookassa_emulator, auth_emulator, notifications_emulator, tmp_path, stack_env):
    """billy serve + billy worker on the test database; the provider's webhooks go to billy."""
    env = {
        "AUTH_API_URL": auth_emulator.base_url,
        "NOTIFICATIONS_URL": notifications_emulator.base_url,
        "YOOKASSA_TIMEOUT": str(UPSTREAM_TIMEOUT),
        "BILLY_LOG_LEVEL": "WARNING",
        **stack_env,
    }
    processes: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        log = (tmp_path / f"{args[0]}-{len(processes)}.log").open("w")
        process = billy_process(*args, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    def start_server(*args: str) -> tuple[subprocess.Popen, int]:
        log = (tmp_path / f"{args[0]}-{len(processes)}.log").open("w")
        port_file = tmp_path / f"{args[0]}-{len(processes)}.port"
        process, port = billy_server(*args, env=env, stdout=log, stderr=subprocess.STDOUT, port_file=port_file)
        processes.append(process)
        return process, port

    server, port = start_server("serve", "--workers", "1")
    worker = start("worker")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health", server)
        yookassa.register_webhook(SHOP_ID, f"{base}/api/v1/workspaces/cinema/providers/yookassa/webhook")
        api = httpx.Client(
            base_url=base + "/api/v1/workspaces/cinema",
            headers={"Authorization": f"Bearer {make_api_key('cinema')}"},
            timeout=30,
        )
        yield Stack(api=api, worker=worker, start_worker=lambda: start("worker"))
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
