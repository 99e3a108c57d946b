"""The batch move of families to the identity provider at scale: run by hand, never by the tests.

    .venv/bin/python bench/migration.py                       # 10,000 families, provider at 200 req/s
    .venv/bin/python bench/migration.py --families 2000 --provider-rate 100 --interrupt-after 10

It starts a private PostgreSQL cluster in a temporary directory (or uses DATABASE_URL's server with
a scratch database `billy_bench_migration`), applies the migrations, seeds the `taxi` workspace with
N families (an owner and two members each, bulk inserts), starts the identity provider emulator
with their users (portal accounts) and a rate limit, then runs `billy families migrate --workspace
taxi --all --rate R` as a subprocess, interrupts it with SIGINT after `--interrupt-after` seconds,
runs the same command again to resume, and checks: every family DONE, exactly one provider family
per owner holding all three members, exactly N creates at the provider (no family created twice),
the stored run's tallies summing to N. It prints the rate and the total time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BILLY = [sys.executable, "-m", "billy"]
# BENCH_PROFILE=FILE: the batch runs under cProfile, its statistics written to FILE.
PROFILE = os.environ.get("BENCH_PROFILE")
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _database(tmp: Path) -> tuple[str, object | None]:
    if os.environ.get("DATABASE_URL"):
        from billy.core.embedded_pg import ensure_database

        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        url = f"{base}/billy_bench_migration"
        ensure_database(url)
        return url, None
    from billy.core.embedded_pg import EmbeddedPostgres, ensure_database

    cluster = EmbeddedPostgres(tmp / "pg")
    port = cluster.start()
    url = cluster.url("billy", port)
    ensure_database(url)
    return url, cluster


def _seed(n: int) -> list[dict]:
    """N families of the taxi workspace, bulk inserted; their users, for the provider's state."""
    from billy.families.models import Family, Member
    from billy.ledger.models import SpendingLimit
    from billy.workspaces.operations import upsert_workspace

    taxi = upsert_workspace(
        name="taxi",
        title="Taxi",
        balance_service_id=1004,
        balance_integration="taxi",
        balance_configuration="taxi_default",
        now=NOW,
    )
    Family.objects.filter(workspace=taxi).delete()
    families = Family.objects.bulk_create(
        [
            Family(workspace=taxi, owner_user_id=f"o-{i}", name=f"F{i}", accepted_at=NOW, family_id=f"family-bench-{i}")
            for i in range(n)
        ],
        batch_size=2000,
    )
    limits = SpendingLimit.objects.bulk_create(
        [
            SpendingLimit(workspace=taxi, currency="RUB", amount=None if k else 100000, created_at=NOW, updated_at=NOW)
            for _ in range(n)
            for k in range(3)
        ],
        batch_size=5000,
    )
    users, members = [], []
    for i, family in enumerate(families):
        for k, (uid, role) in enumerate(((f"o-{i}", "OWNER"), (f"k-{i}", "MEMBER"), (f"p-{i}", "MEMBER"))):
            phone = f"+7{i:07d}{k:03d}"
            members.append(
                Member(
                    family=family,
                    workspace=taxi,
                    user_id=uid,
                    phone=phone,
                    role=role,
                    limit=limits[3 * i + k],
                    created_at=NOW,
                )
            )
            users.append({"uid": uid, "phone": phone, "portal": True})
    Member.objects.bulk_create(members, batch_size=5000)
    return users


def _wait_port(path: Path, process: subprocess.Popen) -> int:
    deadline = time.monotonic() + 120
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the identity provider emulator did not start")
        time.sleep(0.1)
    return int(path.read_text())


def _run(env: dict[str, str], rate: float, *, interrupt_after: float | None) -> tuple[int, str, float]:
    started = time.monotonic()
    runner = [sys.executable, "-m", "cProfile", "-o", PROFILE, "-m", "billy"] if PROFILE else BILLY
    process = subprocess.Popen(
        [*runner, "families", "migrate", "--workspace", "taxi", "--all", "--rate", str(rate)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=None,  # the progress bar goes to the terminal
        text=True,
    )
    lines = [process.stdout.readline()]  # "run #N: started ..." once it is under way
    if interrupt_after is not None:
        try:
            process.wait(timeout=interrupt_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
    output, _ = process.communicate()
    return process.returncode, "".join(lines) + output, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--provider-rate", type=float, default=200.0, help="the emulator's limit, requests a second")
    parser.add_argument("--rate", type=float, default=None, help="billy's pace (default: the provider's rate)")
    parser.add_argument("--interrupt-after", type=float, default=20.0, help="seconds before the SIGINT")
    args = parser.parse_args()
    rate = args.rate or args.provider_rate

    with tempfile.TemporaryDirectory(prefix="billy-bench-migration-") as tmp_name:
        tmp = Path(tmp_name)
        tmp.chmod(0o755)  # PostgreSQL runs as another user when this runs as root
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billy.settings")
        url, cluster = _database(tmp)
        os.environ["DATABASE_URL"] = url
        identity = None
        try:
            subprocess.run([*BILLY, "migrate"], check=True, env=os.environ, stdout=subprocess.DEVNULL)
            import django

            django.setup()
            seeding = time.monotonic()
            users = _seed(args.families)
            print(f"seeded {args.families} families in {time.monotonic() - seeding:.1f} s", flush=True)
            state = tmp / "identity.json"
            state.write_text(json.dumps({"users": {u["uid"]: u for u in users}, "families": {}, "next": 1000}))
            port_file = tmp / "identity.port"
            identity = subprocess.Popen(
                [
                    *BILLY,
                    "emulate",
                    "identity",
                    "--port",
                    "0",
                    "--port-file",
                    str(port_file),
                    "--state-file",
                    str(state),
                    "--rate",
                    str(args.provider_rate),
                ],
                env={**os.environ, "BILLY_LOG_LEVEL": "WARNING"},
            )
            base = f"http://127.0.0.1:{_wait_port(port_file, identity)}"
            env = {**os.environ, "IDENTITY_URL": base, "BILLY_LOG_LEVEL": "WARNING"}

            first_code, first, first_time = _run(env, rate, interrupt_after=args.interrupt_after)
            print(first.strip(), flush=True)
            second_code, second, second_time = _run(env, rate, interrupt_after=None)
            print(second.strip(), flush=True)
            return _check(args.families, base, first_code, second_code, first_time + second_time, rate, args)
        finally:
            if identity is not None:
                identity.terminate()
                identity.wait(timeout=30)
            if cluster is not None:
                cluster.stop()


def _check(n: int, base: str, first_code: int, second_code: int, elapsed: float, rate: float, args) -> int:
    import httpx

    from billy.families.models import FamilyMigration, MigrationRun

    families = httpx.get(f"{base}/_emulator/families", timeout=120).json()["families"]
    creates = sum(
        1
        for r in httpx.get(f"{base}/_emulator/requests", timeout=120).json()["requests"]
        if r["operation"] == "create_family" and r["outcome"] == "applied"
    )
    limited = sum(
        1
        for r in httpx.get(f"{base}/_emulator/requests", timeout=120).json()["requests"]
        if r["outcome"] == "rate_limited"
    )
    whole = sum(1 for f in families if len(f["members"]) == 3)
    done = FamilyMigration.objects.filter(state="DONE").count()
    run = MigrationRun.objects.order_by("-pk").first()
    tallies = run.done + run.partial + run.failed + run.skipped
    problems = []
    if first_code != 130:
        problems.append(f"the first run was not interrupted (exit {first_code}): raise --families")
    if second_code != 0:
        problems.append(f"the resumed run exited {second_code}")
    if not (done == n == len(families) == whole == creates == tallies):
        problems.append(
            f"done {done}, provider families {len(families)} (whole {whole}), creates {creates}, tallies {tallies}; "
            f"expected {n} each"
        )
    print(
        f"\n{n} families moved in {elapsed:.1f} s of runs ({n / elapsed:.1f} families/s; "
        f"billy paced at {rate:g} provider calls/s, the provider limited to {args.provider_rate:g}/s and refused "
        f"{limited} calls with 429); interrupted once with SIGINT and resumed; "
        f"{creates} creates at the provider, {done} DONE, run tallies {tallies}"
    )
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
