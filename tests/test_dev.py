"""`billy dev` as a newcomer runs it: embedded PostgreSQL, every process, the emulator, demo data."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import free_port

KEY = "billy_dev_test_key_0123456789abcdefghijkl"


class DevProcess:
    def __init__(self, data_dir: Path, http_port: int, grpc_port: int, emulator_ports: tuple[int, int, int]) -> None:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(
            BILLY_DATA_DIR=str(data_dir),
            BILLY_HTTP_PORT=str(http_port),
            BILLY_GRPC_PORT=str(grpc_port),
            BILLY_DEV_API_KEY=KEY,
            BILLY_YOOKASSA_PORT=str(emulator_ports[0]),
            BILLY_AUTH_PORT=str(emulator_ports[1]),
            BILLY_NOTIFICATIONS_PORT=str(emulator_ports[2]),
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "billy", "dev"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith("Ctrl-C stops everything"):
                self.ready.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_ready(self) -> None:
        assert self.ready.wait(120), self.output[-3000:]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


@pytest.fixture
def data_dir():
    path = Path(tempfile.mkdtemp(prefix="billy-dev-", dir="/tmp"))
    path.chmod(0o755)
    yield path / "data"
    shutil.rmtree(path, ignore_errors=True)


def _subscribe_and_pay(base: str, headers: dict[str, str], *, yookassa: str) -> None:
    """The cinema's demo plans are on sale, and a payment on the emulator's page activates one."""
    plans = httpx.get(f"{base}/api/v1/workspaces/cinema/plans", headers=headers).json()["plans"]
    assert [p["code"] for p in plans] == ["monthly", "yearly"]
    subscribed = httpx.post(
        f"{base}/api/v1/workspaces/cinema/users/viewer-1/subscriptions",
        headers={**headers, "Idempotency-Key": "dev-test"},
        json={"plan": "monthly", "return_url": base + "/health"},
        timeout=30,
    )
    assert subscribed.status_code == 201, subscribed.text
    payment = subscribed.json()["payment"]
    paid = httpx.post(
        payment["confirmation_url"],
        data={"card_number": "5555555555554477", "expiry": "12/30", "cvc": "123"},
        timeout=10,
    )
    assert paid.status_code == 303
    deadline = time.monotonic() + 30
    status = ""
    while status != "ACTIVE" and time.monotonic() < deadline:
        time.sleep(0.3)
        status = httpx.get(
            f"{base}/api/v1/workspaces/cinema/subscriptions/{subscribed.json()['id']}", headers=headers
        ).json()["status"]
    assert status == "ACTIVE"
    at_provider = httpx.get(f"{yookassa}/_emulator/payments").json()["payments"]
    assert [(p["id"], p["status"]) for p in at_provider] == [(payment["provider_payment_id"], "succeeded")]


def test_dev_starts_everything_and_keeps_data_between_runs(data_dir):
    http_port, grpc_port = free_port(), free_port()
    emulator_ports = (free_port(), free_port(), free_port())
    base = f"http://127.0.0.1:{http_port}"
    client_path = f"{base}/api/v1/workspaces/c2b/clients/client-1"
    headers = {"Authorization": f"Bearer {KEY}"}

    dev = DevProcess(data_dir, http_port, grpc_port, emulator_ports)
    try:
        dev.wait_ready()
        assert re.search(r"user admin\s+password \S+", dev.output)
        assert KEY in dev.output
        response = httpx.put(
            client_path,
            headers=headers,
            json={"name": "ООО Ромашка", "email": "info@romashka.ru", "phone": "8 (495) 123-45-67"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        emulator = re.search(r"clients: (http://127\.0\.0\.1:\d+/_emulator/clients)", dev.output).group(1)
        (in_balance,) = httpx.get(emulator).json()["clients"]
        assert in_balance["links"] == [{"integration": "c2b", "configuration": "c2b_default"}]
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            check = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert check.status == health_pb2.HealthCheckResponse.SERVING
        for name in ("autoru", "realty", "realty_commercial", "cm_expert", "c2b", "cinema"):
            assert httpx.get(f"{base}/api/v1/workspaces/{name}/clients/none", headers=headers).status_code == 404
        _subscribe_and_pay(base, headers, yookassa=f"http://127.0.0.1:{emulator_ports[0]}")
    finally:
        code = dev.stop()
    assert code == 0, dev.output[-3000:]
    assert "[dev] stopped" in dev.output
    time.sleep(0.5)
    with pytest.raises(httpx.ConnectError):
        httpx.get(base + "/health", timeout=2)

    again = DevProcess(data_dir, http_port, grpc_port, emulator_ports)
    try:
        again.wait_ready()
        kept = httpx.get(client_path, headers=headers, timeout=10)
        assert kept.status_code == 200
        assert kept.json()["phone"] == "+74951234567"
    finally:
        assert again.stop() == 0
