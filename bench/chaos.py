"""bench/chaos: a seeded, randomized fault run against a private `billy dev` (see bench/README.md).

    bench/chaos --seed 7 --minutes 1
    bench/chaos --seed 7 --minutes 1 --faults 0,3,5      # only these faults of seed 7's schedule
    bench/chaos --seed 7 --minutes 1 --shrink            # on failure, look for the shortest schedule

It starts `billy dev` in a temporary directory (its own PostgreSQL cluster, every port free), drives
billy from `--threads` actors (chaos_ops.py) while a fault schedule drawn from the seed hits the
emulators and the processes, lets the janitors finish, and checks the final state (chaos_checks.py).
Exit status 0 when nothing was found, 1 with the findings, the seed and the schedule otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import chaos_consumption  # noqa: E402
import chaos_families  # noqa: E402
import chaos_migration  # noqa: E402
import httpx  # noqa: E402
import psycopg  # noqa: E402
from chaos_checks import check_all, failed_janitor_runs, hot_wallet_figure, pending  # noqa: E402
from chaos_moneyin import FAULT_WEIGHT as MONEY_IN_FAULT_WEIGHT  # noqa: E402
from chaos_moneyin import fault_params as money_in_fault_params  # noqa: E402
from chaos_moneyin import fault_spec as money_in_fault_spec  # noqa: E402
from chaos_ops import Actor, Journal  # noqa: E402
from chaos_relay import RelayKiller, check_relay, drop_stream, relay_env  # noqa: E402
from chaos_renewals import RENEWAL_ENV  # noqa: E402
from chaos_webhooks import BILLY_SETTINGS as WEBHOOK_SETTINGS  # noqa: E402
from chaos_webhooks import ENDPOINTS as WEBHOOK_ENDPOINTS  # noqa: E402
from chaos_webhooks import WebhookCatchUp, Webhooks, check_webhooks  # noqa: E402

from billy.core.embedded_pg import EmbeddedPostgres  # noqa: E402

KEY = "billy_chaos_key_0123456789abcdefghijklmnop"
START_TIMEOUT = 300
# The adapters' timeouts in the run (short, so a hung call is an unknown outcome soon) and how long a
# commit-then-timeout fault keeps the caller waiting: well past them.
UPSTREAM_TIMEOUT = 3
HANG_SECONDS = 6
# How long the janitors get to finish once the actors stop: only a finding waits this long.
SETTLE_TIMEOUT = 420
# A longer run leaves a longer backlog (jobs backing off through the faults): the clients' last
# steps and the janitors get this much more time per minute of the run beyond the first.
SETTLE_PER_MINUTE = 30
# Faults per minute of run.
FAULT_RATE = 10
# Faults that need processes that heal (a worker that reconnects, `billy dev` restarting a child):
# --no-process-faults skips them (they stay in the schedule, so the other faults keep their places).
HEALING = ("kill_worker", "restart_postgres")
# How long a restart_postgres fault waits for a fast shutdown before an immediate one.
RESTART_FAST_SECONDS = 15
FAULT_WEIGHTS = {
    "balance": 4,
    "yookassa": 5,
    "webhook": 5,
    "auth": 2,
    "notifications": 1,
    "cards": 3,
    "identity": chaos_migration.FAULT_WEIGHT,
    "kill_http_worker": 2,
    "kill_worker": 2,
    "restart_postgres": 2,
    "balance_money": MONEY_IN_FAULT_WEIGHT,  # money in: Balance's money methods and its notifications
}


@dataclasses.dataclass(frozen=True)
class Fault:
    index: int
    at: float  # seconds after the actors start
    kind: str
    params: dict[str, Any]

    def __str__(self) -> str:
        return f"#{self.index} at {self.at:5.1f}s {self.kind} {json.dumps(self.params, sort_keys=True)}"


def draw_schedule(seed: int, minutes: float) -> list[Fault]:
    """The seed's faults, the same for the same seed and length whatever is enabled."""
    rng = random.Random(f"{seed}:faults")
    duration = minutes * 60
    count = max(1, round(FAULT_RATE * minutes))
    times = sorted(rng.uniform(2, max(3, duration - 5)) for _ in range(count))
    kinds, weights = zip(*FAULT_WEIGHTS.items(), strict=True)
    schedule = []
    for i, at in enumerate(times):
        kind = rng.choices(kinds, weights)[0]
        schedule.append(Fault(i, round(at, 1), kind, _params(rng, kind)))
    return schedule


def _params(rng: random.Random, kind: str) -> dict[str, Any]:
    if kind == "balance":
        fault = rng.choice(("unavailable", "error", "delay", "commit_then_timeout"))
        method = rng.choice((None, "CreateClient", "LinkIntegrationToClient", "FindClient"))
        return {"kind": fault, "count": rng.randint(1, 3), "seconds": _seconds(rng, fault), "method": method}
    if kind == "yookassa":
        fault = rng.choice(("error", "too_many_requests", "delay", "commit_then_timeout", "refund_pending"))
        operation = None
        if fault != "refund_pending":
            operation = rng.choice(
                (None, "create_payment", "get_payment", "list_payments", "create_refund", "get_refund")
            )
        seconds = rng.uniform(2, 10) if fault == "refund_pending" else _seconds(rng, fault)
        return {"kind": fault, "count": rng.randint(1, 3), "seconds": round(seconds, 1), "operation": operation}
    if kind == "webhook":
        fault = rng.choice(("lose_webhook", "repeat_webhook", "delay_webhook"))
        return {
            "kind": fault,
            "count": rng.randint(1, 3),
            "times": rng.randint(2, 4),
            "seconds": round(rng.uniform(1, 8), 1),
        }
    if kind in ("auth", "notifications"):
        fault = rng.choice(("unavailable", "error", "delay", "commit_then_timeout", "down"))
        seconds = rng.uniform(2, 8) if fault == "down" else _seconds(rng, fault)
        return {"kind": fault, "count": rng.randint(1, 3), "seconds": round(seconds, 1)}
    if kind == "balance_money":
        return money_in_fault_params(rng)
    if kind in ("cards", "identity"):
        return chaos_families.fault_params(rng, HANG_SECONDS)
    if kind == "restart_postgres":
        return {"down_seconds": round(rng.uniform(0.5, 5), 1)}
    return {"pick": rng.randrange(1000)}


def _seconds(rng: random.Random, fault: str) -> float:
    return {"delay": round(rng.uniform(0.2, 2), 1), "commit_then_timeout": HANG_SECONDS}.get(fault, 0)


# -- billy dev ---------------------------------------------------------------------------------

BANNER = {
    "http": r"^  HTTP API +(http://\S+?)/api/v1/",
    "grpc": r"^  gRPC +(\S+)",
    "balance": r"^  Balance +emulator at (http://\S+?)/xmlrpc",
    "yookassa": r"^  YooKassa +emulator at (http://\S+?)/v3",
    "auth": r"^  Auth API +emulator at (http://\S+?) ",
    "notifications": r"^  notifications emulator at (http://\S+)",
    "cards": r"^  cards +emulator at (http://\S+)",
    "identity": r"^  identity +emulator at (http://\S+)",
    "family": r"^Family accounts: the taxi's demo family is (\S+),",
    "database": r"^  database +(\S+)",
}


class Billy:
    """`billy dev` in a temporary directory, and what the run does to its processes."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.data_dir = work / "data"
        self.log_path = work / "dev.log"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BILLY_LOG_LEVEL")}
        env.update(
            BILLY_DATA_DIR=str(self.data_dir),
            BILLY_DEV_API_KEY=KEY,
            # Janitors look for lost webhooks and stuck refunds within seconds, not minutes.
            BILLY_PAYMENT_RECHECK_SECONDS="5",
            BILLY_REFUND_POLL_SECONDS="5",
            # Invoices and credit transfers their callers left are finished by the next janitor run.
            BILLY_STALLED_REGISTRATION_SECONDS="10",
            BALANCE_TIMEOUT=str(UPSTREAM_TIMEOUT),
            YOOKASSA_TIMEOUT=str(UPSTREAM_TIMEOUT),
            AUTH_API_TIMEOUT=str(UPSTREAM_TIMEOUT),
            NOTIFICATIONS_TIMEOUT=str(UPSTREAM_TIMEOUT),
            **RENEWAL_ENV,
            # Each webhook endpoint's delivery job holds a worker slot while it has events to send:
            # one more slot per endpoint leaves the other jobs the four they have without them.
            BILLY_WORKER_CONCURRENCY=str(4 + len(WEBHOOK_ENDPOINTS)),
            **WEBHOOK_SETTINGS,
            **chaos_consumption.BILLY_SETTINGS,
            CARDS_TIMEOUT=str(UPSTREAM_TIMEOUT),
            # A card call whose outcome billy did not learn is settled within seconds.
            BILLY_CARD_CALL_HORIZON_SECONDS="10",
            **relay_env(),
        )
        for variable in ("HTTP", "GRPC", "BALANCE", "YOOKASSA", "AUTH", "NOTIFICATIONS", "CARDS"):
            env[f"BILLY_{variable}_PORT"] = "0"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "billy", "dev"], env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.env: dict[str, str] = {}
        self.cluster = EmbeddedPostgres(self.data_dir)

    def wait_ready(self) -> dict[str, str]:
        deadline = time.monotonic() + START_TIMEOUT
        while "Ctrl-C stops everything" not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("billy dev did not start:\n" + self.output()[-3000:])
            time.sleep(0.2)
        out = self.output()
        self.env = {name: re.search(pattern, out, re.M).group(1) for name, pattern in BANNER.items()}
        self.env["key"] = KEY
        self.env["operator_key"] = self._operator_key()
        return self.env

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _operator_key(self) -> str:
        made = subprocess.run(
            [
                sys.executable,
                "-m",
                "billy",
                "apikey",
                "create",
                "--workspace",
                "c2b",
                "--role",
                "operator",
                "--name",
                "chaos operator",
            ],
            env={**os.environ, "DATABASE_URL": self.env["database"]},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return made.stdout.strip().splitlines()[-1]

    def children(self, pid: int) -> list[tuple[int, str]]:
        """(pid, command line) of the processes whose parent is `pid`."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append((int(entry.name), cmdline))
        return sorted(found)

    def child(self, role: str) -> int | None:
        """The pid of `billy dev`'s child running `billy <role>`."""
        for pid, cmdline in self.children(self.process.pid):
            if f"-m billy {role}" in cmdline:
                return pid
        return None

    def kill(self, pid: int | None) -> bool:
        if pid is None:
            return False
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        return True

    def restart_postgres(self, down_seconds: float) -> None:
        # A fast shutdown that has not ended after RESTART_FAST_SECONDS becomes an immediate one
        # (the start then recovers from the WAL, as after a crash): the outage stays an outage of
        # seconds, not of a minute of a slow disk.
        self.cluster.stop(fast_timeout=RESTART_FAST_SECONDS)
        time.sleep(down_seconds)  # the outage itself, not a wait for something
        self.cluster.start()

    def db(self) -> psycopg.Connection:
        return psycopg.connect(self.env["database"], autocommit=True)

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


# -- faults ------------------------------------------------------------------------------------


class Injector(threading.Thread):
    """Injects the schedule's faults at their times; records what it did."""

    def __init__(self, billy: Billy, schedule: list[Fault], *, process_faults: bool, stop: threading.Event) -> None:
        super().__init__(name="faults", daemon=True)
        self.billy = billy
        self.schedule = schedule
        self.process_faults = process_faults
        self.stop = stop
        self.injected: list[tuple[Fault, str]] = []
        self.start_at = 0.0
        self.failure: BaseException | None = None

    def run(self) -> None:
        restarts: list[threading.Thread] = []
        try:
            for fault in self.schedule:
                if self.stop.wait(max(0.0, self.start_at + fault.at - time.monotonic())):
                    return
                if fault.kind == "restart_postgres" and self.process_faults:
                    # In a thread of its own: a restart lasts seconds, and the faults after it
                    # keep their times.
                    restarts.append(threading.Thread(target=self._restart, args=(fault,), name="restart-postgres"))
                    restarts[-1].start()
                    self.injected.append((fault, "injected"))
                else:
                    self.injected.append((fault, self.inject(fault)))
        except BaseException as e:  # noqa: BLE001 (reported as a finding)
            self.failure = e
        finally:
            for thread in restarts:  # the injector has ended when every restart has
                thread.join()

    def _restart(self, fault: Fault) -> None:
        try:
            self.inject(fault)
        except BaseException as e:  # noqa: BLE001 (reported as a finding)
            self.failure = e

    def inject(self, fault: Fault) -> str:
        env, p = self.billy.env, fault.params
        if fault.kind in HEALING and not self.process_faults:
            return "skipped (--no-process-faults)"
        if fault.kind == "balance":
            spec = {k: p[k] for k in ("kind", "count", "seconds", "method")}
            httpx.post(env["balance"] + "/_emulator/faults", json=spec, timeout=10).raise_for_status()
        elif fault.kind == "balance_money":
            spec = money_in_fault_spec(p, HANG_SECONDS)
            httpx.post(env["balance"] + "/_emulator/faults", json=spec, timeout=10).raise_for_status()
        elif fault.kind in ("yookassa", "webhook"):
            spec = {k: v for k, v in p.items() if k in ("kind", "count", "seconds", "operation", "times")}
            httpx.post(env["yookassa"] + "/_emulator/faults", json=spec, timeout=10).raise_for_status()
        elif fault.kind in ("auth", "notifications", "cards", "identity"):
            spec = {k: p[k] for k in ("kind", "count", "seconds")}
            httpx.post(env[fault.kind] + "/_emulator/faults", json=spec, timeout=10).raise_for_status()
        elif fault.kind == "kill_http_worker":
            workers = self.billy.children(self.billy.child("serve") or -1)
            if not workers or not self.billy.kill(workers[p["pick"] % len(workers)][0]):
                return "no HTTP worker to kill"
        elif fault.kind == "kill_worker":
            if not self.billy.kill(self.billy.child("worker")):
                return "no worker to kill"
        elif fault.kind == "restart_postgres":
            self.billy.restart_postgres(p["down_seconds"])
        return "injected"


def clear_faults(env: dict[str, str]) -> None:
    for name in ("balance", "yookassa", "auth", "notifications", "cards", "identity"):
        httpx.delete(env[name] + "/_emulator/faults", timeout=10).raise_for_status()


# -- the run -----------------------------------------------------------------------------------


@dataclasses.dataclass
class Result:
    findings: list[str]
    counts: Counter
    codes: Counter
    injected: list[tuple[Fault, str]]
    settle_seconds: float
    webhooks: list[str] = dataclasses.field(default_factory=list)  # what the webhook receiver got
    relay: list[str] = dataclasses.field(default_factory=list)  # the stream against the feed
    hot: str = ""  # how the hot bursts' charges were written


def run_once(args: argparse.Namespace, schedule: list[Fault]) -> Result:
    work = Path(tempfile.mkdtemp(prefix="billy-chaos-", dir="/tmp"))
    work.chmod(0o755)  # PostgreSQL runs as another user when we are root
    billy = Billy(work)
    try:
        env = billy.wait_ready()
        _say(
            f"billy dev is up in {work} ({env['http']}, gRPC {env['grpc']}); {args.threads} actors, {args.minutes} min"
        )
        return _drive(args, billy, schedule)
    finally:
        code = billy.stop()
        drop_stream(billy)
        if code not in (0, None):
            _say(f"billy dev exited with {code}; the end of its output:\n{billy.output()[-2000:]}")
        if args.keep:
            _say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _drive(args: argparse.Namespace, billy: Billy, schedule: list[Fault]) -> Result:
    hooks = Webhooks(seed=args.seed, minutes=args.minutes, env=billy.env)
    try:
        with billy.db() as db:
            hooks.register(db)  # before the actors and the faults start
        return _run_and_check(args, billy, schedule, hooks)
    finally:
        hooks.close()


def _run_and_check(args: argparse.Namespace, billy: Billy, schedule: list[Fault], hooks: Webhooks) -> Result:
    env, journal, stop = billy.env, Journal(), threading.Event()
    duration = args.minutes * 60
    started = time.monotonic()
    actors = [
        Actor(index=i, seed=args.seed, env=env, journal=journal, stop=stop, run_end=started + duration)
        for i in range(args.threads)
    ]
    with billy.db() as db:
        chaos_migration.setup(env, db)
    injector = Injector(billy, schedule, process_faults=args.process_faults, stop=stop)
    injector.start_at = started
    hooks.start(started)
    relay_killer = RelayKiller(billy, seed=args.seed, seconds=duration, stop=stop)
    for thread in (*actors, injector, relay_killer):
        thread.start()
    next_report = started + args.progress
    while time.monotonic() < started + duration:
        time.sleep(1)  # a clock for the progress line, not a wait for anything
        if time.monotonic() >= next_report:
            next_report += args.progress
            _progress(started, journal, injector)
    stop.set()
    injector.join()
    for actor in actors:
        actor.join(timeout=120)
    findings = [f"actor {a.index} crashed: {a.failure!r}" for a in actors if a.failure]
    if injector.failure:
        findings.append(f"the fault injector crashed: {injector.failure!r}")
    _say("actors stopped; clearing faults and letting the clients and the janitors finish")
    hooks.finish()
    extra = SETTLE_PER_MINUTE * max(0.0, duration / 60 - 1)
    findings += _finish(billy, actors, journal, seconds=240 + extra)
    findings += chaos_migration.finish(env)
    settle_timeout = SETTLE_TIMEOUT + extra
    settle_started = time.monotonic()
    left = _settle(billy, env, deadline=settle_started + settle_timeout)
    settle_seconds = time.monotonic() - settle_started
    with billy.db() as db:
        findings += check_all(db, env, journal, left)
        webhook_findings, webhook_figures = check_webhooks(db, hooks)
        findings += webhook_findings
        janitor_failures = failed_janitor_runs(db)
        hot = hot_wallet_figure(db)
    relay_findings, relay_figures = check_relay(billy, relay_killer)
    findings += relay_findings
    for actor in actors:
        actor.close()
    if billy.process.poll() is not None:
        findings.append(f"billy dev exited with {billy.process.returncode} during the run")
    if left:
        _say(f"still pending after {settle_timeout:.0f} s: {left}")
    if janitor_failures:
        _say(f"periodic janitor runs that failed (the next run did their work): {', '.join(janitor_failures)}")
    return Result(
        findings,
        Counter(journal.counts()),
        journal.codes(),
        injector.injected,
        settle_seconds,
        webhook_figures,
        relay_figures,
        hot,
    )


def _finish(billy: Billy, actors: list[Actor], journal: Journal, *, seconds: float) -> list[str]:
    """What the clients still owe: repeat unfinished registrations, settle holds, act on payment pages."""
    clear_faults(billy.env)
    _wait_for(lambda: billy.child("worker") is not None and _answers(billy.env["http"]), 120, "billy answering")
    deadline = time.monotonic() + seconds
    helper = actors[0]
    findings = []
    for sid, data in journal.registrations.items():
        while time.monotonic() < deadline and helper.register(sid, data).outcome not in ("ok", "refused"):
            time.sleep(1)  # Retry-After: the client comes back later
    for actor in actors:
        for charge_id, amount in actor.open_holds:
            while time.monotonic() < deadline and actor.settle_hold(charge_id, amount).outcome not in ("ok", "refused"):
                time.sleep(1)  # Retry-After
        keys = list(actor.to_pay)
        while keys and time.monotonic() < deadline:
            keys = [k for k in keys if not actor.act_on_payment(k)]
            if keys:
                time.sleep(1)  # the payment is not at the provider yet
        if keys:
            findings.append(f"subscriptions never got a payment page: {keys}")
    return findings


def _answers(base: str) -> bool:
    try:
        return httpx.get(base + "/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        time.sleep(0.5)


def _pending(billy: Billy) -> dict[str, int]:
    """What is pending, read on a connection of its own: a database that restarted late in the run
    (its supervisor brings it back) costs a poll, not the run."""
    try:
        with billy.db() as db:
            return pending(db)
    except psycopg.OperationalError as e:
        return {f"database not answering ({str(e).splitlines()[0][:80]})": 1}


def _catching_up(billy: Billy, catching_up: WebhookCatchUp, left: dict[str, int]) -> bool:
    try:
        with billy.db() as db:
            return catching_up(db, left)
    except psycopg.OperationalError:
        return False


def _settle(billy: Billy, env: dict[str, str], *, deadline: float) -> dict[str, int]:
    """Poll until nothing is pending in billy and no webhook waits at the provider, or the deadline;
    past it, for as long as webhook deliveries are all that is left and they keep finishing."""
    catching_up = WebhookCatchUp()
    last_report = time.monotonic()
    while True:
        left = _pending(billy)
        report = time.monotonic() - last_report > 30
        # The provider's delivery log is large: read it only when billy has nothing left, or to report.
        if not left or report or time.monotonic() > deadline:
            queued = httpx.get(env["yookassa"] + "/_emulator/deliveries", timeout=30).json()["queued"]
            if queued:
                left["webhooks queued at the provider"] = queued
        if not left or (time.monotonic() > deadline and not _catching_up(billy, catching_up, left)):
            return left
        if report:
            last_report = time.monotonic()
            _say(f"settling: {left}")
        time.sleep(1)


# -- output ------------------------------------------------------------------------------------


def _say(text: str) -> None:
    print(f"[chaos] {text}", flush=True)


def _progress(started: float, journal: Journal, injector: Injector) -> None:
    counts = journal.counts()
    by_outcome = Counter()
    for (_, outcome), n in counts.items():
        by_outcome[outcome] += n
    done = ", ".join(f"{k} {v}" for k, v in sorted(by_outcome.items()))
    _say(f"{time.monotonic() - started:5.0f}s  calls: {done}; faults injected: {len(injector.injected)}")


def report(seed: int, result: Result) -> None:
    print(f"\nseed {seed}: operations by kind and outcome")
    ops = sorted({op for op, _ in result.counts})
    outcomes = ("ok", "refused", "unknown", "error")
    print(f"  {'operation':28}" + "".join(f"{o:>9}" for o in outcomes))
    for op in ops:
        print(f"  {op:28}" + "".join(f"{result.counts.get((op, o), 0):>9}" for o in outcomes))
    refusals = Counter({f"{op} {code or '?'}": n for (op, outcome, code), n in result.codes.items() if outcome != "ok"})
    print("refused or unknown, by error code: " + ", ".join(f"{k} {v}" for k, v in sorted(refusals.items())))
    print(f"faults ({len(result.injected)}):")
    for fault, what in result.injected:
        print(f"  {fault}  → {what}")
    print("webhooks, by endpoint:")
    for line in result.webhooks:
        print(f"  {line}")
    print("relay:\n" + "".join(f"  {line}\n" for line in result.relay), end="")
    print(result.hot)
    print(f"janitors finished in {result.settle_seconds:.0f} s")


def shrink(args: argparse.Namespace, schedule: list[Fault], failing: list[Fault]) -> list[Fault]:
    """The shortest sub-schedule found that still fails: drop halves, then single faults (ddmin, coarse)."""
    chunk = max(1, len(failing) // 2)
    while failing and chunk >= 1:
        reduced = False
        for start in range(0, len(failing), chunk):
            candidate = failing[:start] + failing[start + chunk :]
            _say(f"shrink: trying {len(candidate)} faults: {[f.index for f in candidate]}")
            if run_once(args, candidate).findings:
                failing, reduced = candidate, True
                break
        if not reduced:
            if chunk == 1:
                break
            chunk //= 2
    return failing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--threads", type=int, default=8, help="concurrent actors (default 8)")
    parser.add_argument("--faults", help="only these faults of the seed's schedule: indexes, e.g. 0,3,5 (empty: none)")
    parser.add_argument(
        "--process-faults",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"inject {', '.join(HEALING)} (default); --no-process-faults skips them",
    )
    parser.add_argument(
        "--shrink", action="store_true", help="on failure, rerun with fewer faults to find the shortest"
    )
    parser.add_argument("--progress", type=float, default=30, help="seconds between progress lines")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, logs)")
    args = parser.parse_args(argv)

    schedule = draw_schedule(args.seed, args.minutes)
    selected = schedule
    if args.faults is not None:
        wanted = {int(i) for i in args.faults.split(",") if i.strip()}
        selected = [f for f in schedule if f.index in wanted]
    _say(f"seed {args.seed}, {args.minutes} min, {len(selected)} of {len(schedule)} faults")
    result = run_once(args, selected)
    report(args.seed, result)
    if not result.findings:
        print(f"\nseed {args.seed}: nothing found")
        return 0
    print(f"\nseed {args.seed}: {len(result.findings)} findings")
    for finding in result.findings[:100]:
        print(f"  {finding}")
    if args.shrink:
        selected = shrink(args, schedule, selected)
    command = f"bench/chaos --seed {args.seed} --minutes {args.minutes} --threads {args.threads}"
    if not args.process_faults:
        command += " --no-process-faults"
    if len(selected) != len(schedule):
        command += f" --faults '{','.join(str(f.index) for f in selected)}'"
    print(f"\nreproduce ({len(selected)} faults): {command}")
    for fault in selected:
        print(f"  {fault}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
