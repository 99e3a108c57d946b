"""Charging while Balance is up, down and slow: consumption reporting never slows it (by hand).

    .venv/bin/python bench/consumption_outage.py [--clients 100] [--charges 10000] [--threads 4]

Recreates the scratch database `billy_bench_consumption` (on DATABASE_URL's server, default
postgresql://postgres@127.0.0.1:5432), starts the Balance emulator in this process, registers
`--clients` clients with a payer and a prepay contract each (billy's own HTTP API, in process), so
every wallet is bound to a Balance wallet order, and funds the wallets. Then, in one run, the same
load of `--charges` charges (`--threads` threads calling billy's charge operation, random clients)
under each Balance condition, while the reporting job runs all the time in a thread of its own
(a pass every 0.2 s, far more often than BILLY_CONSUMPTION_REPORT_SECONDS would):

    up        Balance answers;
    slow      every Balance call hangs past the adapter's timeout (1 s);
    up-again  Balance answers again (the machine's own noise shows between the two);
    down      every Balance call is refused as unavailable (503), for the whole load.

It prints the charging rate and latency of each phase, then brings Balance back, runs the
reporter once to catch up and checks that every wallet order's consumed total in Balance, and billy's last
reported total, equal the wallet's net consumption.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from scratch import scratch_billy

DB = "billy_bench_consumption"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--charges", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    with scratch_billy(DB, BALANCE_TIMEOUT="1"):
        run(args)


def run(args) -> None:
    import json

    from django.conf import settings
    from django.db import connection
    from django.test import Client as HttpClient

    from billy.charges import operations as charges
    from billy.charges.operations import ChargeRequest
    from billy.clients.models import Client
    from billy.consumption import reporting
    from billy.consumption.models import OrderReport
    from billy.core import clock
    from billy.integrations.balance import get_balance
    from billy.integrations.balance.emulator import BalanceEmulator, BalanceEmulatorControl
    from billy.ledger import operations as ledger
    from billy.workspaces import operations as workspaces

    emulator = BalanceEmulator().start()
    control = BalanceEmulatorControl(emulator.base_url)
    settings.BALANCE_URL = emulator.url
    settings.BALANCE_TIMEOUT = 1.0
    now = clock.now()
    workspaces.upsert_workspace(
        name="c2b",
        title="C2B",
        balance_service_id=1001,
        balance_integration="c2b",
        balance_configuration="c2b_default",
        now=now,
    )
    key = workspaces.create_api_key(name="bench", workspace_names=["c2b"], now=now).secret
    http = HttpClient(HTTP_AUTHORIZATION=f"Bearer {key}")
    payer = {
        "type": "LEGAL",
        "name": "ООО Ромашка",
        "inn": "7707083893",
        "kpp": "773601001",
        "email": "buh@romashka.ru",
        "phone": "+74951234567",
        "legal_address": "Москва, ул. Льва Толстого, 16",
    }
    contract = {"payer_id": "p", "payment_type": "PREPAY", "start_date": "2026-11-01"}
    started = time.monotonic()
    for n in range(args.clients):
        base = f"/api/v1/workspaces/c2b/clients/c{n}"
        for path, body in (
            (base, {"name": f"ООО Клиент {n}", "email": f"c{n}@example.ru", "phone": "+74951234567"}),
            (base + "/payers/p", payer),
            (base + "/contracts/k", contract),
        ):
            answer = http.put(path, json.dumps(body), content_type="application/json")
            assert answer.status_code in (200, 201), answer.content
    clients = list(Client.objects.order_by("id"))
    for client in clients:
        ledger.adjust_wallet(
            client=client, adjustment_id=f"f{client.pk}", amount=10**13, reason="bench", actor="bench", now=clock.now()
        )
    print(f"{len(clients)} clients bound to wallet orders and funded in {time.monotonic() - started:.1f} s")
    balance = get_balance()
    stop = threading.Event()
    passes = {"n": 0, "errors": 0}

    def reporter() -> None:
        while not stop.is_set():
            result = reporting.report_consumption(balance=balance, now=clock.now())
            passes["n"] += 1
            passes["errors"] += bool(result.error)
            stop.wait(0.2)
        connection.close()

    counter = iter(range(10**9))

    def charge_many(count: int, phase: str) -> list[float]:
        rng = random.Random(phase)
        latencies = []
        for _ in range(count):
            client = rng.choice(clients)
            request = ChargeRequest(charge_id=f"{phase}-{next(counter)}", product="ads", amount=rng.randint(1, 10_000))
            t = time.perf_counter()
            charges.post_charge(client=client, request=request, now=clock.now())
            latencies.append(time.perf_counter() - t)
        connection.close()
        return latencies

    def phase(name: str) -> tuple[str, float, float, float, int, int]:
        per_thread = args.charges // args.threads
        before = dict(passes)
        t = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            parts = list(pool.map(lambda i: charge_many(per_thread, f"{name}{i}"), range(args.threads)))
        elapsed = time.perf_counter() - t
        latencies = [x for part in parts for x in part]
        return (
            name,
            len(latencies) / elapsed,
            statistics.median(latencies) * 1000,
            percentile(latencies, 0.99) * 1000,
            passes["n"] - before["n"],
            passes["errors"] - before["errors"],
        )

    thread = threading.Thread(target=reporter)
    thread.start()
    rows = []
    try:
        rows.append(phase("up"))
        control.inject("delay", count=10**9, seconds=3)
        rows.append(phase("slow"))
        control.clear_faults()
        rows.append(phase("up-again"))
        control.inject("unavailable", count=10**9)
        rows.append(phase("down"))
    finally:
        stop.set()
        thread.join()
        control.clear_faults()
    print(f"\n{args.charges} charges per phase, {args.threads} threads, {args.clients} wallets; reporting every 0.2 s")
    print(f"{'Balance':10} {'charges/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'report passes':>14} {'failed passes':>14}")
    for name, rate, p50, p99, n, errors in rows:
        print(f"{name:10} {rate:10.0f} {p50:8.2f} {p99:8.2f} {n:14} {errors:14}")
    t = time.perf_counter()
    # Everything charged is in the catch-up: it runs as if the grace period had passed.
    grace = dt.timedelta(seconds=settings.BILLY_CONSUMPTION_GRACE_SECONDS)
    run = reporting.report_consumption(balance=balance, now=clock.now() + grace)
    caught_up = time.perf_counter() - t
    print(f"\ncatch-up with Balance back: {run.orders} orders, {run.accepted} reports in {caught_up:.2f} s")
    balance_totals = {o["OrderID"]: o["ConsumedTotal"] for o in control.orders()}
    mismatched = 0
    for order in OrderReport.objects.select_related("wallet"):
        net = order.wallet.net_consumption
        in_balance = round(float(balance_totals[order.order_id]) * 100)
        mismatched += not (order.reported_total == net == in_balance)
    total = OrderReport.objects.count()
    print(
        f"orders whose reported total equals billy's net consumption in billy and in Balance: "
        f"{total - mismatched}/{total}"
    )
    emulator.stop()
    if mismatched:
        sys.exit(1)


if __name__ == "__main__":
    main()
