"""`billy dev` as a newcomer runs it: embedded PostgreSQL, every process, the emulator, demo data."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
import httpx
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from billy.core.embedded_pg import EmbeddedPostgres
from billy.dev_lock import claim_database
from billy.v1 import clients_pb2, clients_pb2_grpc
from tests.conftest import START_TIMEOUT, database_url_for_children

KEY = "billy_dev_test_key_0123456789abcdefghijkl"


# The variables that set billy dev's ports, each with its default.
PORT_VARIABLES = (
    "BILLY_HTTP_PORT",
    "BILLY_GRPC_PORT",
    "BILLY_BALANCE_PORT",
    "BILLY_YOOKASSA_PORT",
    "BILLY_AUTH_PORT",
    "BILLY_NOTIFICATIONS_PORT",
    "BILLY_CARDS_PORT",
    "BILLY_IDENTITY_PORT",
)
# Where the banner names each server's address.
BANNER = {
    "http": r"^  HTTP API +(http://\S+?)/api/v1/",
    "grpc": r"^  gRPC +(\S+)",
    "balance": r"^  Balance +emulator at (http://\S+?)/xmlrpc",
    "yookassa": r"^  YooKassa +emulator at (http://\S+?)/v3",
    "auth": r"^  Auth API +emulator at (http://\S+)",
    "notifications": r"^  notifications emulator at (http://\S+)",
    "cards": r"^  cards +emulator at (http://\S+)",
    "identity": r"^  identity +emulator at (http://\S+)",
}
# 0 for every port: free ones, picked by each server as it binds (nothing to race for).
ANY_PORTS = dict.fromkeys(PORT_VARIABLES, "0")


class DevProcess:
    def __init__(self, data_dir: Path, ports: dict[str, str]) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BILLY_LOG_LEVEL")}
        env.update(BILLY_DATA_DIR=str(data_dir), BILLY_DEV_API_KEY=KEY, **ports)
        self.data_dir = data_dir
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
        assert self.ready.wait(300), self.output[-3000:]

    def address(self, name: str) -> str:
        """Where the banner says `name` (a key of BANNER) listens."""
        return re.search(BANNER[name], self.output, re.M).group(1)

    def lines_to_banner(self) -> list[str]:
        """The output from the start up to the banner's last line."""
        end = next(i for i, line in enumerate(self.lines) if line.startswith("Ctrl-C stops everything"))
        return self.lines[: end + 1]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


@pytest.fixture
def data_dir():
    path = Path(tempfile.mkdtemp(prefix="billy-dev-", dir="/tmp"))
    path.chmod(0o755)
    yield path / "data"
    shutil.rmtree(path, ignore_errors=True)


def _subscribe_and_pay(base: str, headers: dict[str, str], *, yookassa: str, user: str = "viewer-1") -> None:
    """The cinema's demo plans are on sale, and a payment on the emulator's page activates one."""
    plans = httpx.get(f"{base}/api/v1/workspaces/cinema/plans", headers=headers).json()["plans"]
    assert [p["code"] for p in plans] == ["monthly", "yearly"]
    before = {p["id"] for p in httpx.get(f"{yookassa}/_emulator/payments").json()["payments"]}
    subscribed = httpx.post(
        f"{base}/api/v1/workspaces/cinema/users/{user}/subscriptions",
        headers={**headers, "Idempotency-Key": f"dev-test-{user}"},
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
    deadline = time.monotonic() + 120
    status = ""
    while status != "ACTIVE" and time.monotonic() < deadline:
        time.sleep(0.3)
        status = httpx.get(
            f"{base}/api/v1/workspaces/cinema/subscriptions/{subscribed.json()['id']}", headers=headers
        ).json()["status"]
    assert status == "ACTIVE"
    at_provider = httpx.get(f"{yookassa}/_emulator/payments").json()["payments"]
    new = [(p["id"], p["status"]) for p in at_provider if p["id"] not in before]
    assert new == [(payment["provider_payment_id"], "succeeded")]


def _invoice_pay_and_charge(base: str, headers: dict[str, str], banner: str) -> None:
    """The banner's money-in flow, as a newcomer follows it: the seeded c2b client takes an invoice,
    the invoice is paid on Balance's page, the wallet shows the money, a charge takes some."""
    assert "/clients/client-1/invoices" in banner
    client = f"{base}/api/v1/workspaces/c2b/clients/client-1"
    invoice = httpx.post(
        client + "/invoices", headers=headers, json={"invoice_id": "inv-1", "amount": "1000.00"}, timeout=30
    )
    assert invoice.status_code == 201, invoice.text
    paid = httpx.post(invoice.json()["payment_url"] + "/pay", data={"amount": "1000.00"}, timeout=30)
    assert paid.status_code == 303
    deadline = time.monotonic() + 120
    available = ""
    while available != "1000.00" and time.monotonic() < deadline:
        time.sleep(0.3)
        available = httpx.get(client + "/wallet", headers=headers, timeout=30).json()["available"]
    assert available == "1000.00"
    charge = httpx.post(
        client + "/charges",
        headers=headers,
        json={"charge_id": "ch-1", "product": "listing", "amount": "300.00"},
        timeout=30,
    )
    assert charge.status_code == 201, charge.text


def test_dev_starts_everything_and_keeps_data_between_runs(data_dir):
    client_path = "/api/v1/workspaces/c2b/clients/client-1"
    headers = {"Authorization": f"Bearer {KEY}"}

    dev = DevProcess(data_dir, ANY_PORTS)
    try:
        dev.wait_ready()
        base = dev.address("http")
        assert re.search(r"user admin\s+password \S+", dev.output)
        assert KEY in dev.output
        _invoice_pay_and_charge(base, headers, dev.output)
        emulator = re.search(r"clients: (http://127\.0\.0\.1:\d+/_emulator/clients)", dev.output).group(1)
        (in_balance,) = httpx.get(emulator).json()["clients"]
        assert in_balance["links"] == [{"integration": "c2b", "configuration": "c2b_default"}]
        with grpc.insecure_channel(dev.address("grpc")) as channel:
            check = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=30)
            assert check.status == health_pb2.HealthCheckResponse.SERVING
        for name in ("autoru", "realty", "realty_commercial", "cm_expert", "c2b", "cinema"):
            assert httpx.get(f"{base}/api/v1/workspaces/{name}/clients/none", headers=headers).status_code == 404
        _subscribe_and_pay(base, headers, yookassa=dev.address("yookassa"))
    finally:
        code = dev.stop()
    assert code == 0, dev.output[-3000:]
    assert "[dev] stopped" in dev.output
    with pytest.raises(httpx.ConnectError):
        httpx.get(base + "/health", timeout=10)

    again = DevProcess(data_dir, ANY_PORTS)
    try:
        again.wait_ready()
        kept = httpx.get(again.address("http") + client_path, headers=headers, timeout=30)
        assert kept.status_code == 200
        assert kept.json()["phone"] == "+74951234567"
    finally:
        assert again.stop() == 0


@pytest.fixture(scope="module")
def dev_on_taken_ports():
    """billy dev, started while another program listens on each of the ports it is told to use."""
    parent = Path(tempfile.mkdtemp(prefix="billy-dev-", dir="/tmp"))
    parent.chmod(0o755)
    taken = {variable: socket.create_server(("127.0.0.1", 0)) for variable in PORT_VARIABLES}
    dev = DevProcess(parent / "data", {variable: str(s.getsockname()[1]) for variable, s in taken.items()})
    try:
        dev.wait_ready()
        yield dev, {variable: s.getsockname()[1] for variable, s in taken.items()}
    finally:
        dev.stop()
        for listener in taken.values():
            listener.close()
        shutil.rmtree(parent, ignore_errors=True)


def test_dev_moves_off_taken_ports_says_so_and_the_banner_names_the_ports_it_got(dev_on_taken_ports):
    dev, taken = dev_on_taken_ports
    for port in taken.values():
        assert re.search(rf"; port {port}: ", dev.output), f"nothing says port {port} was taken:\n{dev.output}"
    addresses = {name: dev.address(name) for name in BANNER}
    assert {int(a.rsplit(":", 1)[1]) for a in addresses.values()}.isdisjoint(taken.values())

    for name in ("http", "balance", "yookassa", "auth", "notifications", "cards"):
        assert httpx.get(addresses[name] + "/health", timeout=30).status_code == 200, name
    with grpc.insecure_channel(addresses["grpc"]) as channel:
        check = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=30)
        assert check.status == health_pb2.HealthCheckResponse.SERVING
    _subscribe_and_pay(addresses["http"], {"Authorization": f"Bearer {KEY}"}, yookassa=addresses["yookassa"])


def test_dev_output_up_to_the_banner_fits_on_a_screen(dev_on_taken_ports):
    dev, _ = dev_on_taken_ports
    lines = dev.lines_to_banner()
    assert len(lines) <= 40, "".join(lines)
    assert not [line for line in lines if "Registering task" in line or "procrastinate" in line], "".join(lines)


# Each banner name's port variable.
BANNER_VARIABLES = {
    "http": "BILLY_HTTP_PORT",
    "grpc": "BILLY_GRPC_PORT",
    "balance": "BILLY_BALANCE_PORT",
    "yookassa": "BILLY_YOOKASSA_PORT",
    "auth": "BILLY_AUTH_PORT",
    "notifications": "BILLY_NOTIFICATIONS_PORT",
    "cards": "BILLY_CARDS_PORT",
    "identity": "BILLY_IDENTITY_PORT",
}


def test_a_second_dev_on_the_same_data_directory_names_the_first_and_starts_nothing(dev_on_taken_ports):
    dev, _ = dev_on_taken_ports
    ports = {variable: dev.address(name).rsplit(":", 1)[1] for name, variable in BANNER_VARIABLES.items()}
    running = {pid: name for pid, name in _children(dev).items() if name}  # a zombie has no command line

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BILLY_LOG_LEVEL")}
    env.update(BILLY_DATA_DIR=str(dev.data_dir), BILLY_DEV_API_KEY=KEY, **ports)

    second = subprocess.run(
        [sys.executable, "-m", "billy", "dev"],
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )

    assert (second.returncode, second.stdout) == (1, ""), second.stdout + second.stderr
    (line,) = second.stderr.splitlines()
    assert line.startswith(f"billy: dev_already_running: billy dev (pid {dev.process.pid}) is already running with")
    for name, variable in BANNER_VARIABLES.items():
        assert f" port {ports[variable]} ({variable})" in line, name
    # Nothing of the second one started, and the first one's demo shop still points at its own emulator.
    assert {pid: name for pid, name in _children(dev).items() if name} == running
    database = re.search(r"^  database +(\S+)", dev.output, re.M).group(1)
    with psycopg.connect(database) as connection:
        (shop,) = connection.execute("SELECT yookassa_api_url FROM workspace WHERE name = 'cinema'").fetchone()
    assert shop == dev.address("yookassa") + "/v3"


def test_a_dev_on_a_database_another_dev_uses_names_it_and_starts_nothing(django_db_setup, data_dir):
    url = database_url_for_children()
    env = {k: v for k, v in os.environ.items() if k != "BILLY_LOG_LEVEL"}
    env.update(DATABASE_URL=url, BILLY_DATA_DIR=str(data_dir), BILLY_DEV_API_KEY=KEY, **ANY_PORTS)

    with claim_database(url):  # as a running billy dev holds it, with its own data directory
        second = subprocess.run(
            [sys.executable, "-m", "billy", "dev"],
            env=env,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            check=False,
        )

    assert second.returncode == 1, second.stdout + second.stderr
    assert "billy is running." not in second.stdout
    assert second.stderr.splitlines()[-1].startswith(
        f"billy: dev_already_running: billy dev (pid {os.getpid()}) is already running with the database "
    )


def _children(dev: DevProcess) -> dict[int, str]:
    """billy dev's child processes: pid -> what it runs (`worker`, `grpc`, `serve`, `balance`, ...)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            argv = (stat.parent / "cmdline").read_bytes().decode().split("\0")
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        if ppid == dev.process.pid:
            at = argv.index("billy") + 1 if "billy" in argv else len(argv) - 1
            found[int(stat.parent.name)] = argv[at + 1] if argv[at] == "emulate" else argv[at]
    return found


def _poll(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.2)


def _grpc_serving(address: str) -> bool:
    with grpc.insecure_channel(address) as channel:
        try:
            check = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        except grpc.RpcError:
            return False
    return check.status == health_pb2.HealthCheckResponse.SERVING


class _LightLoad:
    """A request every 0.2 s from another thread, for as long as the test runs; their statuses."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.answers: list[httpx.Response] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(url, headers))
        self.thread.start()

    def _run(self, url: str, headers: dict[str, str]) -> None:
        while not self.done.wait(0.2):
            self.answers.append(httpx.get(url, headers=headers, timeout=30))

    def stop(self) -> list[httpx.Response]:
        self.done.set()
        self.thread.join()
        return self.answers


def test_dev_restarts_children_that_die_and_outlives_a_database_restart(dev_on_taken_ports):
    dev, _ = dev_on_taken_ports
    base, grpc_address, yookassa = dev.address("http"), dev.address("grpc"), dev.address("yookassa")
    headers = {"Authorization": f"Bearer {KEY}"}

    # SIGKILL the worker and the gRPC server: each is started again, and says so.
    killed = {pid: name for pid, name in _children(dev).items() if name in ("worker", "grpc")}
    assert sorted(killed.values()) == ["grpc", "worker"]
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    _poll(
        lambda: (
            sorted(n for p, n in _children(dev).items() if n in ("worker", "grpc") and p not in killed)
            == [
                "grpc",
                "worker",
            ]
        ),
        "the worker and the gRPC server started again",
    )
    for name in ("worker", "grpc"):
        assert f"[dev] {name} was killed by SIGKILL; starting it again in 1 s\n" in dev.lines
    _poll(lambda: _grpc_serving(grpc_address), "the gRPC server serving again on its port")

    # PostgreSQL stops under light load: nothing exits, and meanwhile HTTP says 503 and gRPC UNAVAILABLE.
    running = _children(dev)
    plans = f"{base}/api/v1/workspaces/cinema/plans"
    load = _LightLoad(plans, headers)
    cluster = EmbeddedPostgres(dev.data_dir)
    port = cluster.running_port()
    cluster.stop()
    try:
        down = httpx.get(plans, headers=headers, timeout=30)
        with grpc.insecure_channel(grpc_address) as channel, pytest.raises(grpc.RpcError) as grpc_down:
            clients_pb2_grpc.ClientServiceStub(channel).GetClient(
                clients_pb2.GetClientRequest(workspace="c2b", service_client_id="client-1"),
                metadata=[("authorization", f"Bearer {KEY}")],
                timeout=30,
            )
        # Left down, the cluster is started again by billy dev, on its port.
        _poll(lambda: f"[dev] PostgreSQL answers again on port {port}\n" in dev.lines, "billy dev restarting it")
    finally:
        cluster.start()  # nothing to do unless the test failed
    assert f"[dev] PostgreSQL does not answer on port {port}; billy waits for it\n" in dev.lines
    assert any(line.startswith("[dev] PostgreSQL has not come back in") for line in dev.lines)
    # The worker takes a webhook sent after the restart: the payment activates the subscription.
    _subscribe_and_pay(base, headers, yookassa=yookassa, user="viewer-after-restart")
    answers = load.stop()

    assert (down.status_code, down.json()["error"]["code"], down.headers["Retry-After"]) == (503, "unavailable", "5")
    assert grpc_down.value.code() == grpc.StatusCode.UNAVAILABLE
    assert {a.status_code for a in answers} <= {200, 503}, [a.text for a in answers if a.status_code not in (200, 503)]
    assert all(a.headers.get("Retry-After") for a in answers if a.status_code == 503)
    assert _children(dev) == running, dev.output[-3000:]
    assert dev.process.poll() is None
    # The worker took a job after the restart (above). Whether it saw the outage at all depends on
    # whether it touched the database while it was down (its pool reconnects by itself); if it
    # stopped, it said it goes on.
    if "the worker stopped" in dev.output:
        _poll(lambda: "the worker goes on" in dev.output, "the worker saying it goes on")
