"""Relay benchmark (by hand, never in the test suite): how fast `billy relay` publishes the feed.

    .venv/bin/python bench/relay.py [--events 100000] [--workspaces 4] [--batch 1000]

Recreates the scratch database `billy_bench_relay` (on DATABASE_URL's server, default
postgresql://postgres@127.0.0.1:5432), migrates it, makes `--workspaces` workspaces and writes
`--events` events spread over them in transactions of 1,000 (each shaped like billy's
`charge.completed`: charge id, client, product, amount, currency, at, metadata). Then it starts
`billy relay` against the machine's NATS JetStream (BILLY_BROKER_URL, default
nats://127.0.0.1:4222) with a stream of its own, and measures from its first acknowledged batch to
its last (and from the process's start, Django's start-up included) → events/s. At the end
`billy relay --check` reads the stream whole and compares it with the feed; the stream is deleted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BILLY = str(ROOT / ".venv" / "bin" / "billy")
sys.path.insert(0, str(ROOT / "src"))

from scratch import database_url  # noqa: E402

from billy.integrations.broker.client import NatsBroker  # noqa: E402

DB = "billy_bench_relay"


def write_events(db: psycopg.Connection, workspace_ids: list[int], count: int) -> None:
    for start in range(0, count, 1000):
        n = min(1000, count - start)
        db.execute(
            """
            INSERT INTO event (workspace_id, type, version, data, created_at)
            SELECT (%s::bigint[])[1 + g %% array_length(%s::bigint[], 1)], 'charge.completed', 2,
                   jsonb_build_object(
                       'charge_id', 'ch-' || (%s + g), 'client', 'client-' || (g %% 977),
                       'product', 'placement', 'amount', '12.50', 'currency', 'RUB',
                       'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                       'metadata', jsonb_build_object('offer', 'o-' || g)),
                   now()
              FROM generate_series(1, %s) g
            """,
            [workspace_ids, workspace_ids, start, n],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--workspaces", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1000, help="BILLY_RELAY_BATCH")
    args = parser.parse_args()

    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB}")
    tag = uuid.uuid4().hex[:12]
    nats_url = os.environ.get("BILLY_BROKER_URL", "nats://127.0.0.1:4222")
    env = {
        **os.environ,
        "DATABASE_URL": database_url(DB),
        "BILLY_LOG_LEVEL": "WARNING",
        "BILLY_BROKER_URL": nats_url,
        "BILLY_BROKER_STREAM": f"BENCH_{tag}",
        "BILLY_BROKER_SUBJECT_PREFIX": f"bench{tag}",
        "BILLY_RELAY_BATCH": str(args.batch),
    }
    try:
        code = measure(args, env)
    finally:
        broker = NatsBroker(nats_url)
        try:
            broker.delete_stream(env["BILLY_BROKER_STREAM"])
        finally:
            broker.close()
    raise SystemExit(code)


def measure(args: argparse.Namespace, env: dict[str, str]) -> int:
    subprocess.run([BILLY, "migrate"], env=env, check=True, cwd=ROOT)
    seed = "\n".join(
        [
            "from billy.core import clock",
            "from billy.workspaces import operations",
            *(
                f"operations.upsert_workspace(name='ws{i}', title='WS {i}', balance_service_id={2000 + i},"
                f" balance_integration='ws{i}', balance_configuration='ws{i}_default', now=clock.now())"
                for i in range(args.workspaces)
            ),
        ]
    )
    subprocess.run([BILLY, "manage", "shell", "-c", seed], env=env, check=True, cwd=ROOT)
    with psycopg.connect(database_url(DB), autocommit=True) as db:
        ids = [row[0] for row in db.execute("SELECT id FROM workspace ORDER BY id")]
        started = time.monotonic()
        write_events(db, ids, args.events)
        print(f"{args.events} events in {len(ids)} workspaces written in {time.monotonic() - started:.1f} s")

        def published() -> int:
            return int(db.execute("SELECT coalesce(sum(published_count), 0) FROM relay_cursor").fetchone()[0])

        relay = subprocess.Popen([BILLY, "relay"], env=env, cwd=ROOT)
        started, first = time.monotonic(), None
        try:
            while (done := published()) < args.events:
                if relay.poll() is not None:
                    raise SystemExit(f"billy relay exited with {relay.returncode}")
                if first is None and done:
                    first = (time.monotonic(), done)
                time.sleep(0.05)  # a sampling clock, not a wait for anything
            ended = time.monotonic()
        finally:
            relay.terminate()
            relay.wait(timeout=60)
    whole = args.events / (ended - started)
    print(f"billy relay published {args.events} events (batches of {args.batch}):")
    print(f"  {whole:,.0f} events/s from the process's start ({ended - started:.1f} s)")
    if first is not None and ended > first[0]:
        steady = (args.events - first[1]) / (ended - first[0])
        print(f"  {steady:,.0f} events/s from its first acknowledged batch ({ended - first[0]:.1f} s)")
    check = subprocess.run([BILLY, "relay", "--check"], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    print(f"  check: {check.stdout.strip() or check.stderr.strip()}")
    return check.returncode


if __name__ == "__main__":
    main()
