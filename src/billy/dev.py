"""`billy dev`: one command that gives a newcomer a running billy.

Embedded PostgreSQL (unless DATABASE_URL is set), migrations, demo workspaces, an admin user and
an API key (both printed), then the HTTP server, the gRPC server, the worker and the Balance
emulator as child processes. Ctrl-C stops every child; data stays in BILLY_DATA_DIR for next time.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from billy.core.embedded_pg import EmbeddedPostgres, data_dir_from_env, ensure_database

DEMO_WORKSPACES = [
    # name, title, Balance service id, integration, configuration
    ("autoru", "Auto.ru", 99, "autoru", "autoru_default"),
    ("realty", "Realty", 81, "realty", "realty_default"),
    ("realty_commercial", "Realty commercial", 82, "realty", "realty_commercial_default"),
    ("cm_expert", "CM.Expert", 1001, "cm_expert", "cm_expert_default"),
    ("c2b", "C2B", 1002, "c2b", "c2b_default"),
    ("cinema", "Online cinema", 1003, "cinema", "cinema_default"),
]
# The cinema sells card subscriptions through its shop at the payment provider (the emulator here).
CINEMA_SHOP_ID = "100500"
CINEMA_SECRET_KEY = "test_cinema_secret"
DEMO_PLANS = [
    # code, title, price, period, refund policy, refund days
    ("monthly", "Cinema: one month", "299.00", "MONTH", "FULL", 14),
    ("yearly", "Cinema: one year", "2990.00", "YEAR", "PRORATED", 0),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, child: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{' '.join(child.args[2:4])} exited with {child.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def _load_dev_state(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _save_dev_state(path: Path, state: dict) -> None:
    path.write_text(json.dumps(state, indent=2))
    path.chmod(0o600)


def _seed(data_dir: Path, *, yookassa_api_url: str) -> tuple[str, str, str]:
    """Demo workspaces and plans, the admin user and the dev API key; returns (admin user, password, key)."""
    from django.contrib.auth import get_user_model

    from billy.core import clock
    from billy.core.money import parse_amount
    from billy.subscriptions.plans import ensure_plan
    from billy.workspaces import operations

    for name, title, service_id, integration, configuration in DEMO_WORKSPACES:
        operations.upsert_workspace(
            name=name,
            title=title,
            balance_service_id=service_id,
            balance_integration=integration,
            balance_configuration=configuration,
            now=clock.now(),
        )
    cinema = operations.configure_payment_provider(
        name="cinema", api_url=yookassa_api_url, shop_id=CINEMA_SHOP_ID, secret_key=CINEMA_SECRET_KEY
    )
    for code, title, price, period, policy, days in DEMO_PLANS:
        ensure_plan(
            workspace=cinema,
            code=code,
            title=title,
            price=parse_amount(price),
            period=period,
            refund_policy=policy,
            refund_days=days,
            now=clock.now(),
        )
    state_file = data_dir / "dev.json"
    state = _load_dev_state(state_file)
    password = os.environ.get("BILLY_DEV_ADMIN_PASSWORD") or state.get("admin_password") or secrets.token_urlsafe(12)
    api_key = os.environ.get("BILLY_DEV_API_KEY") or state.get("api_key") or "billy_dev_" + secrets.token_urlsafe(24)
    user_model = get_user_model()
    admin = user_model.objects.filter(username="admin").first()
    if admin is None:
        user_model.objects.create_superuser("admin", "admin@localhost", password)
    elif not admin.check_password(password):
        admin.set_password(password)
        admin.save(update_fields=["password"])
    operations.ensure_api_key(
        name="billy dev", secret=api_key, workspace_names=[w[0] for w in DEMO_WORKSPACES], now=clock.now()
    )
    _save_dev_state(state_file, {**state, "admin_password": password, "api_key": api_key})
    return "admin", password, api_key


def run_dev() -> int:
    data_dir = data_dir_from_env()
    data_dir.mkdir(parents=True, exist_ok=True)
    cluster = None
    started_cluster = False
    if not os.environ.get("DATABASE_URL"):
        cluster = EmbeddedPostgres(data_dir)
        started_cluster = cluster.running_port() is None
        print(f"[dev] PostgreSQL ({cluster.bin_dir}) in {cluster.pgdata} ...", flush=True)
        port = cluster.start()
        os.environ["DATABASE_URL"] = cluster.url("billy", port)
    try:
        return _run(data_dir)
    except KeyboardInterrupt:
        return 130
    finally:
        # A cluster that was already running (another `billy` using it) is left running.
        if cluster is not None and started_cluster:
            cluster.stop()
        print("[dev] stopped", flush=True)


def _run(data_dir: Path) -> int:
    ensure_database(os.environ["DATABASE_URL"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billy.settings")
    http_port = int(os.environ.get("BILLY_HTTP_PORT", "8000"))
    grpc_port = int(os.environ.get("BILLY_GRPC_PORT", "50051"))
    balance_port = _free_port()
    os.environ["BALANCE_URL"] = f"http://127.0.0.1:{balance_port}/xmlrpc"
    yookassa_port = int(os.environ.get("BILLY_YOOKASSA_PORT", "8003"))
    auth_port = int(os.environ.get("BILLY_AUTH_PORT", "8004"))
    notifications_port = int(os.environ.get("BILLY_NOTIFICATIONS_PORT", "8005"))
    os.environ["AUTH_API_URL"] = f"http://127.0.0.1:{auth_port}"
    os.environ["NOTIFICATIONS_URL"] = f"http://127.0.0.1:{notifications_port}"
    # Payments nobody paid are re-read from the emulator after a minute, not five.
    os.environ.setdefault("BILLY_PAYMENT_RECHECK_SECONDS", "60")

    import django
    from django.core.management import call_command

    django.setup()
    print("[dev] applying migrations ...", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    admin_user, admin_password, api_key = _seed(data_dir, yookassa_api_url=f"http://127.0.0.1:{yookassa_port}/v3")

    python = [sys.executable, "-m", "billy"]
    children: list[subprocess.Popen] = []

    def spawn(*args: str) -> subprocess.Popen:
        child = subprocess.Popen([*python, *args], start_new_session=True)
        children.append(child)
        return child

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        emulator = spawn(
            "emulate",
            "balance",
            "--port",
            str(balance_port),
            "--state-file",
            str(data_dir / "emulators" / "balance.json"),
        )
        _wait_http(f"http://127.0.0.1:{balance_port}/health", emulator)
        webhook = f"http://127.0.0.1:{http_port}/api/v1/workspaces/cinema/providers/yookassa/webhook"
        emulators = [
            spawn(
                "emulate",
                "yookassa",
                "--port",
                str(yookassa_port),
                "--state-file",
                str(data_dir / "emulators" / "yookassa.json"),
                "--webhook",
                f"{CINEMA_SHOP_ID}={webhook}",
            ),
            spawn(
                "emulate", "auth", "--port", str(auth_port), "--state-file", str(data_dir / "emulators" / "auth.json")
            ),
            spawn(
                "emulate",
                "notifications",
                "--port",
                str(notifications_port),
                "--state-file",
                str(data_dir / "emulators" / "notifications.json"),
            ),
        ]
        for port, child in zip((yookassa_port, auth_port, notifications_port), emulators, strict=True):
            _wait_http(f"http://127.0.0.1:{port}/health", child)
        server = spawn("serve", "--port", str(http_port))
        spawn("grpc", "--port", str(grpc_port))
        spawn("worker")
        _wait_http(f"http://127.0.0.1:{http_port}/health", server)
        _print_banner(
            http_port=http_port,
            grpc_port=grpc_port,
            balance_port=balance_port,
            emulator_ports=(yookassa_port, auth_port, notifications_port),
            admin=(admin_user, admin_password),
            api_key=api_key,
            data_dir=data_dir,
        )
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(f"[dev] {' '.join(child.args[3:5])} exited with {child.returncode}; stopping", flush=True)
                    stopping, code = True, 1
            time.sleep(0.3)
    except RuntimeError as e:
        print(f"[dev] {e}", file=sys.stderr, flush=True)
        code = 1
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
    return code


def _print_banner(
    *,
    http_port: int,
    grpc_port: int,
    balance_port: int,
    emulator_ports: tuple[int, int, int],
    admin: tuple[str, str],
    api_key: str,
    data_dir: Path,
) -> None:
    base = f"http://127.0.0.1:{http_port}"
    yookassa, auth, notifications = (f"http://127.0.0.1:{p}" for p in emulator_ports)
    print(
        f"""
billy is running.
  HTTP API     {base}/api/v1/   (docs: {base}/api/v1/docs)
  admin        {base}/admin/    user {admin[0]}  password {admin[1]}
  gRPC         127.0.0.1:{grpc_port}
  Balance      emulator at http://127.0.0.1:{balance_port}/xmlrpc (clients: http://127.0.0.1:{balance_port}/_emulator/clients)
  YooKassa     emulator at {yookassa}/v3 (payments: {yookassa}/_emulator/payments)
  Auth API     emulator at {auth} (roles: {auth}/_emulator/roles)
  notifications emulator at {notifications} (open it in a browser to read what users were sent)
  database     {os.environ["DATABASE_URL"]}
  API key      {api_key}
               (granted {", ".join(w[0] for w in DEMO_WORKSPACES)})

Try:
  curl -X PUT {base}/api/v1/workspaces/c2b/clients/client-1 \\
       -H 'Authorization: Bearer {api_key}' -H 'Content-Type: application/json' \\
       -d '{{"name": "ООО Ромашка", "email": "info@romashka.ru", "phone": "8 (495) 123-45-67"}}'

Subscribe a cinema user, then open payment.confirmation_url in a browser and pay with the test
card 5555 5555 5555 4477 (4000 0000 0000 0002 is declined):
  curl -X POST {base}/api/v1/workspaces/cinema/users/user-1/subscriptions \\
       -H 'Authorization: Bearer {api_key}' -H 'Content-Type: application/json' \\
       -H "Idempotency-Key: $(uuidgen || date +%s%N)" \\
       -d '{{"plan": "monthly", "return_url": "{base}/admin/subscriptions/subscription/"}}'
Refund it (use the subscription's id; or the admin's "Refund" action on Subscriptions):
  curl -X POST {base}/api/v1/workspaces/cinema/subscriptions/SUBSCRIPTION_ID/refund \\
       -H 'Authorization: Bearer {api_key}' -H 'Content-Type: application/json' \\
       -H "Idempotency-Key: $(uuidgen || date +%s%N)" -d '{{"reason": "changed my mind"}}'

Ctrl-C stops everything; data stays in {data_dir}.
""",
        flush=True,
    )
