"""Card subscription benchmark (by hand, never in the test suite).

    .venv/bin/python bench/subscriptions.py [--users 300] [--concurrency 8] [--workers 3]

Recreates the scratch database `billy_bench_subs` (on DATABASE_URL's server, default
postgresql://postgres@127.0.0.1:5432), starts the YooKassa, Auth and notification emulators in this
process, `billy serve` and one `billy worker`, then measures:

1. subscribe: `--users` different users subscribe over HTTP from `--concurrency` threads (each call
   is billy's write + the provider's create payment) → calls/s, p50/p99 latency;
2. pay → ACTIVE: every payment is paid at the emulator at once; webhooks reach billy, the worker
   re-reads each payment, posts it, activates, grants the role and notifies → activations/s, and
   how long until the last user holds the role;
3. replay: the same subscribe calls again with their Idempotency-Keys → replays/s (no provider call).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
BILLY = str(ROOT / ".venv" / "bin" / "billy")
sys.path.insert(0, str(ROOT / "src"))

from scratch import database_url  # noqa: E402

from billy.integrations.auth_api.emulator import AuthEmulator, AuthEmulatorControl  # noqa: E402
from billy.integrations.notifications.emulator import NotificationsEmulator, NotificationsEmulatorControl  # noqa: E402
from billy.integrations.yookassa.emulator import YooKassaEmulator, YooKassaEmulatorControl  # noqa: E402

SHOP = "100500"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3, help="billy serve processes")
    args = parser.parse_args()

    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS billy_bench_subs WITH (FORCE)")
        admin.execute("CREATE DATABASE billy_bench_subs")
    yookassa, auth, notifications = YooKassaEmulator().start(), AuthEmulator().start(), NotificationsEmulator().start()
    env = {
        **os.environ,
        "DATABASE_URL": database_url("billy_bench_subs"),
        "AUTH_API_URL": auth.base_url,
        "NOTIFICATIONS_URL": notifications.base_url,
        "BILLY_LOG_LEVEL": "WARNING",
    }
    subprocess.run([BILLY, "migrate"], env=env, check=True, cwd=ROOT)
    key = "billy_bench_" + uuid.uuid4().hex
    seed = f"""
from billy.core import clock
from billy.subscriptions.plans import ensure_plan
from billy.workspaces import operations
operations.upsert_workspace(name="cinema", title="Cinema", balance_service_id=1003, balance_integration="cinema",
                            balance_configuration="cinema_default", now=clock.now())
ws = operations.configure_payment_provider(name="cinema", api_url="{yookassa.api_url}", shop_id="{SHOP}",
                                           secret_key="secret")
ensure_plan(workspace=ws, code="monthly", title="Month", price=29900, period="MONTH", refund_policy="FULL",
            refund_days=14, now=clock.now())
operations.ensure_api_key(name="bench", secret="{key}", workspace_names=["cinema"], now=clock.now())
"""
    subprocess.run([BILLY, "manage", "shell", "-c", seed], env=env, check=True, cwd=ROOT)
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen([BILLY, "serve", "--port", str(port), "--workers", str(args.workers)], env=env, cwd=ROOT)
    worker = subprocess.Popen([BILLY, "worker"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        control = YooKassaEmulatorControl(yookassa.base_url)
        control.register_webhook(SHOP, f"{base}/api/v1/workspaces/cinema/providers/yookassa/webhook")
        run(
            args,
            base,
            key,
            control,
            AuthEmulatorControl(auth.base_url),
            NotificationsEmulatorControl(notifications.base_url),
        )
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait(timeout=30)
        for emulator in (yookassa, auth, notifications):
            emulator.stop()


def run(args, base, key, yookassa, auth, notifications) -> None:
    api = f"{base}/api/v1/workspaces/cinema"
    headers = {"Authorization": f"Bearer {key}"}
    clients = [httpx.Client(headers=headers, timeout=30) for _ in range(args.concurrency)]
    keys = {f"user-{n}": str(uuid.uuid4()) for n in range(args.users)}

    def subscribe(n: int) -> tuple[float, int, dict]:
        user = f"user-{n}"
        started = time.perf_counter()
        answer = clients[n % args.concurrency].post(
            f"{api}/users/{user}/subscriptions",
            json={"plan": "monthly", "return_url": "https://cinema.example/back"},
            headers={"Idempotency-Key": keys[user]},
        )
        return time.perf_counter() - started, answer.status_code, answer.json()

    def phase(name: str) -> list[tuple[float, int, dict]]:
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = list(pool.map(subscribe, range(args.users)))
        elapsed = time.perf_counter() - started
        latencies = [r[0] * 1000 for r in results]
        codes = sorted({r[1] for r in results})
        print(
            f"{name:10} {args.users / elapsed:7.1f} calls/s   p50 {statistics.median(latencies):6.1f} ms   "
            f"p99 {percentile(latencies, 0.99):6.1f} ms   statuses {codes}"
        )
        return results

    created = phase("subscribe")
    started = time.perf_counter()
    for _, _, body in created:
        yookassa.succeed(body["payment"]["provider_payment_id"])  # every call above answered 201
    paid = time.perf_counter() - started
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        granted = len(auth.effects(op="grant"))
        if granted >= args.users:
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    sent = len(notifications.notifications())
    print(
        f"pay→ACTIVE {args.users / elapsed:7.1f} activations/s ({args.users} paid in {paid:.1f} s; last role "
        f"granted after {elapsed:.1f} s; {granted} grants, {sent} notifications)"
    )
    phase("replay")


if __name__ == "__main__":
    main()
