"""billy's charge benchmark: run by bench/run (see bench/README.md), never by the test suite.

Sets up a scratch database, starts `billy serve`, drives it with wrk (closed loop) and
bench/openloop (fixed rate), captures the SQL one charge runs from PostgreSQL's log, replays it
with pgbench, and prints charges/s, p50/p99, CPU per charge and the ratios to pgbench.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV_BIN = ROOT / ".venv" / "bin"
BILLY = str(VENV_BIN / "billy")
CLK_TCK = os.sysconf("SC_CLK_TCK")

WALLET_OFFSET = 10_000_000  # seeded wallet id = client id + offset (pgbench derives one from the other)
CAPTURE_CLIENT_ID = 7_654_321  # the client whose one charge is captured: a number found nowhere else
CAPTURE_CHARGE_ID = "zzcapturechargezz"
HOT_CLIENT = "c1"
SEQUENCE_BASE = 9_000_000_000  # capture-time ids: 9_0xx_000_001, recognisable in the captured SQL

# The targets (issue 14), each a ratio within one run: billy against pgbench replaying billy's SQL.
TARGETS = {
    "spread": "spread >= 50% of pgbench-spread",
    "spread_cpu": "spread: billy's CPU per charge <= PostgreSQL's",
    "hot": "hot >= 100% of pgbench-hot (never below 75%)",
    "openloop": "openloop at half of pgbench-spread's rate: p99 < 50 ms",
    "batch": "batch >= 10x pgbench-spread, in items/s",
    "grpc": "grpc spread >= HTTP spread",
}
PG_SETTINGS = [
    "server_version",
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "max_connections",
    "synchronous_commit",
    "fsync",
    "full_page_writes",
    "wal_level",
    "wal_buffers",
    "wal_sync_method",
    "wal_compression",
    "wal_writer_delay",
    "commit_delay",
    "commit_siblings",
    "max_wal_size",
    "checkpoint_timeout",
    "autovacuum",
    "jit",
    "huge_pages",
]

_children: list[subprocess.Popen] = []  # every process we started, to stop them on exit


def log(msg: str = "") -> None:
    print(msg, flush=True)


# -- processes and CPU ------------------------------------------------------------------------


def read_stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, own CPU ticks, reaped children's CPU ticks) from /proc/<pid>/stat."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): ppid is field 4, utime/stime 14/15, cutime/cstime 16/17
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def tree_cpu(root_pid: int | None) -> float | None:
    """CPU seconds of a process, its children (alive) and the children it reaped."""
    if root_pid is None:
        return None
    root = read_stat(root_pid)
    if root is None:
        return None
    total = root[1] + root[2]
    for pid in all_pids():
        st = read_stat(pid)
        if st and st[0] == root_pid:
            total += st[1]
    return total / CLK_TCK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (/proc/stat)."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    total = sum(parts[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


@dataclass
class CpuSample:
    server: float | None
    postgres: float | None
    busy: float
    total: float

    @classmethod
    def take(cls, server_pid: int | None, postmaster_pid: int | None) -> CpuSample:
        busy, total = machine_cpu()
        return cls(tree_cpu(server_pid), tree_cpu(postmaster_pid), busy, total)


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


@dataclass
class Result:
    name: str
    tool: str
    charges: int = 0
    seconds: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    server_cpu: float | None = None
    pg_cpu: float | None = None
    gen_cpu: float | None = None
    busy_cpu: float = 0.0
    wall_cpu: float = 0.0
    other: int = 0
    other_by_status: dict = field(default_factory=dict)
    errors: int = 0
    note: str = ""
    skipped: str = ""
    profile: str = ""

    @property
    def rate(self) -> float:
        return self.charges / self.seconds if self.seconds else 0.0

    def cpu_per_charge_ms(self, cpu: float | None) -> float | None:
        return None if cpu is None or not self.charges else cpu / self.charges * 1000

    @property
    def other_share(self) -> float | None:
        """CPU used by neither billy, PostgreSQL nor the generator, as a share of all machine CPU."""
        parts = [self.server_cpu or 0.0, self.pg_cpu, self.gen_cpu]
        if None in parts or not self.wall_cpu:
            return None
        return max(0.0, self.busy_cpu - sum(parts)) / self.wall_cpu

    @property
    def gen_share(self) -> float | None:
        return None if self.gen_cpu is None or not self.busy_cpu else self.gen_cpu / self.busy_cpu


def run_measured(cmd: list[str], *, env=None, server_pid=None, postmaster_pid=None, timeout=None):
    """Run a load generator; returns (stdout, stderr, its CPU seconds, CpuSample before, after)."""
    before = CpuSample.take(server_pid, postmaster_pid)
    out_f, err_f = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, env=env)
    _children.append(proc)
    deadline = time.monotonic() + timeout if timeout else None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline and time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    _children.remove(proc)
    after = CpuSample.take(server_pid, postmaster_pid)
    out_f.seek(0)
    err_f.seek(0)
    return proc.returncode, out_f.read(), err_f.read(), usage.ru_utime + usage.ru_stime, before, after


def fill_cpu(r: Result, before: CpuSample, after: CpuSample, gen_cpu: float) -> None:
    r.server_cpu = _sub(after.server, before.server)
    r.pg_cpu = _sub(after.postgres, before.postgres)
    r.gen_cpu = gen_cpu
    r.busy_cpu = after.busy - before.busy
    r.wall_cpu = after.total - before.total


# -- database ---------------------------------------------------------------------------------


def db_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + name))


def pg_env(url: str) -> dict[str, str]:
    """libpq environment variables for psql/pgbench from a postgresql:// URL."""
    p = urlsplit(url)
    env = dict(os.environ)
    env.update(
        {
            "PGHOST": p.hostname or "127.0.0.1",
            "PGPORT": str(p.port or 5432),
            "PGUSER": p.username or "postgres",
            "PGDATABASE": p.path.lstrip("/") or "postgres",
        }
    )
    if p.password:
        env["PGPASSWORD"] = p.password
    return env


def sql(url: str, statement: str, params=None, *, fetch: bool = True):
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if fetch and cur.description else None


def find_postmaster(url: str) -> int | None:
    """The local postmaster's pid (the parent of our backend), or None if the server is elsewhere."""
    (pid,) = sql(url, "SELECT pg_backend_pid()")[0]
    st = read_stat(pid)
    return st[0] if st else None


def find_server_log(url: str, postmaster: int | None) -> Path | None:
    """PostgreSQL's current log file: the logging collector's, else the postmaster's stderr."""
    rows = sql(url, "SELECT pg_current_logfile(), current_setting('data_directory')")
    logfile, data_dir = rows[0]
    if logfile:
        path = Path(logfile)
        return path if path.is_absolute() else Path(data_dir) / path
    if postmaster:
        with contextlib.suppress(OSError):
            target = Path(os.readlink(f"/proc/{postmaster}/fd/2"))
            if target.is_file():
                return target
    return None


def pg_settings(url: str) -> list[tuple[str, str]]:
    rows = sql(
        url,
        "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)",
        [PG_SETTINGS],
    )
    by_name = {}
    for name, setting, unit in rows:
        value = setting
        if unit in ("8kB", "kB", "MB") and setting.lstrip("-").isdigit():
            kb = int(setting) * {"8kB": 8, "kB": 1, "MB": 1024}[unit]
            value = f"{kb // 1024} MB" if kb >= 1024 else f"{kb} kB"
        elif unit:
            value = f"{setting} {unit}"
        by_name[name] = value
    return [(n, by_name[n]) for n in PG_SETTINGS if n in by_name]


# -- billy ------------------------------------------------------------------------------------


def billy(*args: str, env: dict) -> str:
    proc = subprocess.run([BILLY, *args], env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        sys.exit(f"error: billy {' '.join(args[:2])} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, *, env: dict, workers: int, threads: int, port: int, logfile: Path):
        self.env, self.workers, self.threads, self.port, self.logfile = env, workers, threads, port, logfile
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        out = open(self.logfile, "a")  # kept open for the server's lifetime
        cmd = [BILLY, "serve", "--workers", str(self.workers), "--threads", str(self.threads), "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=out, stderr=out, cwd=ROOT, start_new_session=True)
        _children.append(self.proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"error: billy serve exited with {self.proc.returncode}; see {self.logfile}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.url + "/ready", timeout=2) as r:
                    if r.status == 200 and self.children_count() >= self.workers:
                        return
            time.sleep(0.2)
        sys.exit(f"error: billy serve did not become ready; see {self.logfile}")

    def children_count(self) -> int:
        return sum(1 for pid in all_pids() if (st := read_stat(pid)) and st[0] == self.proc.pid)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # gunicorn's graceful stop
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # our own session: started with start_new_session
            self.proc.wait()
        with contextlib.suppress(ValueError):
            _children.remove(self.proc)
        self.proc = None


def http(method: str, url: str, key: str, body: dict | None = None, timeout: float = 30) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def charge_body(charge_id: str) -> dict:
    return {"charge_id": charge_id, "product": "bench", "amount": "1.00"}


def charge_url(server: Server, client: str) -> str:
    return f"{server.url}/api/v1/workspaces/c2b/clients/{client}/charges"


# -- capturing one charge's SQL ---------------------------------------------------------------

LOG_ENTRY = re.compile(r"LOG:\s+duration: ([\d.]+) ms\s+(statement|execute [^:]*|parse [^:]*|bind [^:]*): (.*)$")


@dataclass
class Statement:
    sql: str
    ms: float
    prepared: bool = False  # billy ran it as a prepared statement (`execute <name>`, not `<unnamed>`)


def parse_log(text: str, *, db: str, marker: str) -> list[Statement]:
    """The statements of the backend that ran `marker`, from PostgreSQL's stderr-format log.

    Continuation lines of a multi-line statement start with a tab. Extended-protocol entries
    (`execute <name>: ...` with `DETAIL:  parameters: $1 = '...'`) get their parameters inlined.
    """
    entries: list[list] = []  # [prefix, kind, ms, [sql lines]]
    current = None
    for line in text.splitlines():
        if line.startswith("\t") and current is not None:
            current[3].append(line[1:])
            continue
        m = LOG_ENTRY.search(line)
        if m:
            current = [line[: m.start()], m.group(2), float(m.group(1)), [m.group(3)]]
            entries.append(current)
        elif current is not None and "DETAIL:  parameters:" in line and current[1].startswith("execute"):
            # typed values (billy's integers are int2/4/8 parameters) are inlined unquoted, as numbers
            params = {
                k: (v[1:-1] if re.fullmatch(r"'-?\d+'", v) else v)
                for k, v in re.findall(r"(\$\d+) = ('(?:[^']|'')*'|NULL)", line)
            }
            body = "\n".join(current[3])
            current[3] = [re.sub(r"\$\d+\b", lambda p, params=params: params.get(p.group(0), p.group(0)), body)]
            current = None
        else:
            current = None
    entries = [e for e in entries if e[1] == "statement" or e[1].startswith("execute")]
    entries = [e for e in entries if f"@{db} " in e[0] or "@" not in e[0]]
    # keep only the backend (by the [pid] of the usual log_line_prefix) that ran the marked charge
    pid_of = {id(e): m.group(1) for e in entries if (m := re.search(r"\[(\d+)\]", e[0]))}
    pids = {pid_of[id(e)] for e in entries if id(e) in pid_of and marker in "\n".join(e[3])}
    if pids:
        entries = [e for e in entries if pid_of.get(id(e)) in pids]
    return [
        Statement("\n".join(e[3]).strip(), e[2], prepared=e[1].startswith("execute") and "<unnamed>" not in e[1])
        for e in entries
    ]


def reset_sequences(url: str) -> dict[str, int]:
    """Move every id sequence to a recognisable base; returns {table: the next id it will hand out}."""
    rows = sql(
        url,
        """
        SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND a.attidentity <> '' AND c.relkind = 'r' AND a.atttypid = 'int8'::regtype
         ORDER BY c.relname
        """,
    )
    next_ids = {}
    for i, (table, column) in enumerate(rows):
        base = SEQUENCE_BASE + (i + 1) * 1_000_000
        sql(url, "SELECT setval(pg_get_serial_sequence(%s, %s), %s)", [table, column, base])
        next_ids[table] = base + 1
    return next_ids


def to_pgbench(statements: list[Statement], next_ids: dict[str, int], *, service_id: str) -> tuple[str, list[str]]:
    """The captured statements as a pgbench script body using :cid, :wid, :uid, and the ids that
    INSERT ... RETURNING produced, captured with \\gset. Returns (script body, notes)."""
    notes = []
    lines = []
    replacements: list[tuple[re.Pattern, str]] = [
        (re.compile(rf"(?<![\w.]){WALLET_OFFSET + CAPTURE_CLIENT_ID}(?![\w.])"), ":wid"),
        (re.compile(rf"(?<![\w.]){CAPTURE_CLIENT_ID}(?![\w.])"), ":cid"),
        (re.compile(rf"(?<=['\"]){re.escape(service_id)}(?=['\"])"), "c:cid"),
        (re.compile(re.escape(CAPTURE_CHARGE_ID)), "pg-:uid"),
    ]
    all_sql = [s.sql for s in statements]
    for i, st in enumerate(statements):
        text = st.sql
        for pattern, repl in replacements:
            text = pattern.sub(repl, text)
        text = " ".join(part.strip() for part in text.splitlines() if part.strip())
        gset = ""
        m = re.match(r'INSERT INTO "?(\w+)"?.*\bRETURNING\b', text, re.S | re.I)
        if m and m.group(1) in next_ids:
            table = m.group(1)
            new_id = next_ids[table]
            pattern = re.compile(rf"(?<![\w.]){new_id}(?![\w.])")
            later = [j for j in range(i + 1, len(all_sql)) if pattern.search(all_sql[j])]
            if later:
                gset = f" \\gset {table}_"
                replacements.append((pattern, f":{table}_id"))
                notes.append(f"{table}.id from statement {i + 1} is reused by statement(s) {[j + 1 for j in later]}")
        lines.append(text + (gset if gset else ";"))
    return "\n".join(lines) + "\n", notes


def pgbench_mode(statements: list[Statement]) -> str:
    """How pgbench sends the script: prepared when billy prepared its statements, as billy does."""
    return "prepared" if any(s.prepared for s in statements) else "simple"


def for_prepared(script: str) -> str:
    """The script for `pgbench -M prepared`, where a variable is a parameter and cannot sit inside a
    string literal: `'c:cid'` becomes `('c' || :cid)`, `':wid'` becomes `:wid`."""
    out = []
    for line in script.splitlines():
        if line.startswith(("\\", "--")):
            out.append(line)
            continue
        parts = line.split("'")  # odd parts are the literals (a doubled quote splits into an empty part)
        for i in range(1, len(parts), 2):
            pieces = [p for p in re.split(r"(:(?:uid|cid|wid)\b)", parts[i]) if p]
            if len(pieces) > 1 or (pieces and pieces[0].startswith(":")):
                parts[i] = "\x00" + " || ".join(p if p.startswith(":") else f"'{p}'" for p in pieces) + "\x00"
        text = "'".join(parts)
        out.append(re.sub(r"'\x00(.*?)\x00'", lambda m: f"({m.group(1)})", text))
    return "\n".join(out) + "\n"


# -- scenarios ----------------------------------------------------------------------------------


def parse_bench_line(out: str) -> dict | None:
    for line in out.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    return None


def wrk_scenario(name, *, args, server, key, script, lua_args, connections, env, postmaster) -> Result:
    cmd = [
        "wrk",
        "-t",
        str(args.wrk_threads),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(args.duration))}s",
        "--timeout",
        "30s",
        "-s",
        str(BENCH / script),
        server.url,
        "--",
        *lua_args,
    ]
    log(f"\n== {name}: {' '.join(cmd[: cmd.index('--')])} -- {' '.join(a if a != key else 'KEY' for a in lua_args)}")
    profile = start_profile(server.proc.pid, name, args.duration) if name in args.profile else None
    rc, out, err, gen_cpu, before, after = run_measured(
        cmd, env=env, server_pid=server.proc.pid, postmaster_pid=postmaster, timeout=args.duration + 60
    )
    r = Result(name, "wrk", profile=finish_profile(profile))
    data = parse_bench_line(out)
    if rc != 0 or data is None:
        r.skipped = f"wrk failed (exit {rc}): {err.strip() or out.strip()}"
        log(r.skipped)
        return r
    r.charges = data["items_ok"]
    r.seconds = data["duration_us"] / 1e6
    r.p50_ms, r.p99_ms = data["p50_us"] / 1000, data["p99_us"] / 1000
    r.other, r.other_by_status = data["other"], data["other_by_status"]
    r.errors = data["socket_errors"] + data["timeouts"]
    if data["other"]:
        r.note = f"non-2xx sample: {data['sample'][:200]}"
    fill_cpu(r, before, after, gen_cpu)
    log(
        f"   {r.charges} charges in {r.seconds:.1f}s = {r.rate:.0f}/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, "
        f"non-201 {r.other} {r.other_by_status or ''}, socket errors {r.errors}"
    )
    return r


def openloop_scenario(*, args, server, key, binary, env, postmaster, runid) -> Result:
    cmd = [
        str(binary),
        "-p",
        str(server.port),
        "-k",
        key,
        "-r",
        str(args.rate),
        "-d",
        str(args.duration),
        "-c",
        str(args.openloop_connections),
        "-n",
        str(args.clients),
        "-x",
        runid,
    ]
    log(
        f"\n== openloop: {binary.name} -r {args.rate} -d {args.duration} "
        f"-c {args.openloop_connections} -n {args.clients}"
    )
    rc, out, err, gen_cpu, before, after = run_measured(
        cmd, env=env, server_pid=server.proc.pid, postmaster_pid=postmaster, timeout=args.duration + 60
    )
    data = dict(line.split("=", 1) for line in out.split() if "=" in line)
    r = Result("openloop", "openloop")
    if not data:
        r.skipped = f"openloop failed (exit {rc}): {err.strip()}"
        log(r.skipped)
        return r
    r.charges = int(data["status_201"])
    r.seconds = float(data["duration_s"])
    r.p50_ms, r.p99_ms = float(data["p50_ms"]), float(data["p99_ms"])
    r.other = int(data["non_201"])
    r.other_by_status = {k[7:]: int(v) for k, v in data.items() if k.startswith("status_") and k != "status_201"}
    r.errors = int(data["errors"])
    r.note = (
        f"offered {data['offered_rate']}/s, scheduled {data['scheduled']}, completed {data['completed']}, "
        f"p90 {data['p90_ms']} ms, p99.9 {data['p999_ms']} ms, max {data['max_ms']} ms, "
        f"service time p50/p99 {data['service_p50_ms']}/{data['service_p99_ms']} ms, max queue {data['max_queue']}, "
        f"reconnects {data['reconnects']}"
    )
    fill_cpu(r, before, after, gen_cpu)
    log(
        f"   offered {args.rate}/s: {r.charges} charges = {r.rate:.0f}/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms "
        f"(from the due time), non-201 {r.other}, errors {r.errors}\n   {r.note}"
    )
    return r


def pgbench_scenario(
    name, *, args, script: Path, mode: str, connections, env, postmaster, server_pid, reconnect=False
) -> Result:
    cmd = [args.pgbench, "-n", "-M", mode, "-c", str(connections), "-j", str(args.pgbench_threads)]
    cmd += ["-T", str(max(1, int(args.duration))), "-f", str(script)]
    if reconnect:
        cmd.append("-C")
    log(f"\n== {name}: {' '.join(cmd)}")
    rc, out, err, gen_cpu, before, after = run_measured(
        cmd, env=env, server_pid=server_pid, postmaster_pid=postmaster, timeout=args.duration + 60
    )
    r = Result(name, "pgbench")
    processed = re.search(r"number of transactions actually processed: (\d+)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    lat = re.search(r"latency average = ([\d.]+) ms", out)
    tps = re.search(r"tps = ([\d.]+) \((?:without initial connection time|including reconnection times)\)", out)
    if rc != 0 or not processed or not tps:
        r.skipped = f"pgbench failed (exit {rc}): {(err or out).strip()[-800:]}"
        log(r.skipped)
        return r
    r.charges = int(processed.group(1))
    r.seconds = r.charges / float(tps.group(1)) if float(tps.group(1)) else 0
    r.p50_ms = float(lat.group(1)) if lat else None  # pgbench reports the mean, not p50
    r.errors = int(failed.group(1)) if failed else 0
    r.note = "latency is pgbench's average"
    fill_cpu(r, before, after, gen_cpu)
    r.server_cpu = None
    log(f"   {r.charges} transactions, tps {float(tps.group(1)):.0f}, latency avg {r.p50_ms} ms, failed {r.errors}")
    return r


# -- profile ------------------------------------------------------------------------------------


def start_profile(server_pid: int, name: str, duration: float) -> tuple[subprocess.Popen, Path] | None:
    """py-spy sampling billy serve (master and workers) for one scenario; None when py-spy is missing."""
    spy = shutil.which("py-spy") or str(VENV_BIN / "py-spy")
    if not Path(spy).exists():
        log("   (no py-spy: not profiled)")
        return None
    out_dir = BENCH / "out"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"profile-{name}.txt"
    cmd = [spy, "record", "--pid", str(server_pid), "--subprocesses", "--format", "raw", "--function"]
    cmd += ["--gil", "--nonblocking", "--rate", "100", "--duration", str(max(1, int(duration))), "--output", str(path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _children.append(proc)
    return proc, path


def profile_summary(path: Path, top: int = 25) -> str:
    """The top functions of py-spy's collapsed stacks: by own samples and by samples under them."""
    own: dict[str, int] = {}
    under: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            under[frame] = under.get(frame, 0) + n
    lines = [f"profile {path.name}: {total} samples holding the GIL (py-spy --gil: CPU in Python)", "  own time:"]
    for frame, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"    {n / total:6.1%}  {frame[:140]}")
    lines.append("  under (inclusive), billy's and the stack's own frames:")
    for frame, n in sorted(under.items(), key=lambda kv: -kv[1])[: top * 2]:
        lines.append(f"    {n / total:6.1%}  {frame[:140]}")
    return "\n".join(lines)


def finish_profile(profile: tuple[subprocess.Popen, Path] | None) -> str:
    if profile is None:
        return ""
    proc, path = profile
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with contextlib.suppress(ValueError):
        _children.remove(proc)
    if not path.exists():
        return f"profile {path.name}: py-spy wrote nothing (exit {proc.returncode}; it needs ptrace: run as root)"
    return profile_summary(path)


# -- report -------------------------------------------------------------------------------------


def fmt(v, spec="{:.1f}", none="-") -> str:
    return none if v is None else spec.format(v)


REPORT_ORDER = ["spread", "hot", "openloop", "batch", "grpc", "pgbench-spread", "pgbench-hot", "pgbench-spread-C"]


def report(results: dict[str, Result], *, args, settings, captured, notes, script_sample) -> str:
    results = {name: results[name] for name in REPORT_ORDER if name in results}
    out = []
    w = out.append
    w(f"billy charge benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    w(
        f"machine: {os.cpu_count()} CPUs; billy serve --workers {args.workers} --threads {args.threads} "
        f"(BILLY_DB_CONN_MAX_AGE={os.environ.get('BILLY_DB_CONN_MAX_AGE', 'unset (billy default 60)')}); "
        f"wrk -t{args.wrk_threads} -c{args.connections}; pgbench -c{args.connections} -j{args.pgbench_threads}; "
        f"{args.duration}s per scenario; {args.clients} clients"
    )
    w("")
    w("PostgreSQL settings:")
    for name, value in settings:
        w(f"  {name:22} {value}")
    w("")
    if captured:
        w(f"SQL of one charge ({len(captured)} statements, {sum(s.ms for s in captured):.2f} ms in the server):")
    for i, st in enumerate(captured, 1):
        one = " ".join(st.sql.split())
        w(f"  {i:2}. {st.ms:7.3f} ms  {one[:150]}{'…' if len(one) > 150 else ''}")
    for n in notes:
        w(f"  note: {n}")
    if captured:
        w("")
    header = (
        f"{'scenario':18} {'tool':8} {'charges/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non-201':>8} {'err':>5} "
        f"{'srv ms/ch':>9} {'pg ms/ch':>9} {'gen share':>9} {'cpu busy':>8} {'other':>6}"
    )
    w(header)
    w("-" * len(header))
    for r in results.values():
        if r.skipped:
            w(f"{r.name:18} {r.tool:8} skipped: {r.skipped[:150]}")
            continue
        busy = r.busy_cpu / r.wall_cpu if r.wall_cpu else None
        w(
            f"{r.name:18} {r.tool:8} {r.rate:10.0f} {fmt(r.p50_ms):>8} {fmt(r.p99_ms):>8} {r.other:8d} {r.errors:5d} "
            f"{fmt(r.cpu_per_charge_ms(r.server_cpu), '{:.2f}'):>9} {fmt(r.cpu_per_charge_ms(r.pg_cpu), '{:.2f}'):>9} "
            f"{fmt(r.gen_share, '{:.0%}'):>9} {fmt(busy, '{:.0%}'):>8} {fmt(r.other_share, '{:.0%}'):>6}"
        )
    w("")
    w("columns: charges/s counts only 201s (batch: items); p50/p99 from the generator (openloop: from each")
    w("request's due time; pgbench: average); srv/pg ms/ch = CPU ms per charge of billy serve's processes /")
    w("of all PostgreSQL processes (every database: other work on the machine shows up there); gen share =")
    w("the load generator's CPU / all busy CPU of the machine; cpu busy = busy / all CPU of the machine;")
    w("other = CPU of everything else on the machine / all CPU (high: the figures are disturbed).")
    for r in results.values():
        if r.note and not r.skipped:
            w(f"  {r.name}: {r.note}")
    disturbed = [r.name for r in results.values() if not r.skipped and (r.other_share or 0) > 0.15]
    if disturbed:
        w(
            f"  WARNING: other processes used over 15% of the machine during {', '.join(disturbed)}: "
            "rerun on a quiet machine"
        )
    w("")
    w("targets:")

    def ratio(a: str, b: str) -> float | None:
        ra, rb = results.get(a), results.get(b)
        if not ra or not rb or ra.skipped or rb.skipped or not rb.rate:
            return None
        return ra.rate / rb.rate

    def line(name: str, value: str, ok: bool | None, why: str = "") -> None:
        mark = "(not measured)" if ok is None else ("met" if ok else "NOT MET")
        w(f"  {TARGETS[name]:58} {value:>24}  {mark}{f' ({why})' if why else ''}")

    def measured(name: str) -> Result | None:
        r = results.get(name)
        return None if r is None or r.skipped else r

    rs, rh = ratio("spread", "pgbench-spread"), ratio("hot", "pgbench-hot")
    line("spread", fmt(rs, "{:.0%}"), None if rs is None else rs >= 0.5)
    sp = measured("spread")
    cpu = None if sp is None else (sp.cpu_per_charge_ms(sp.server_cpu), sp.cpu_per_charge_ms(sp.pg_cpu))
    cpu_ok = None if cpu is None or None in cpu else cpu[0] <= cpu[1]
    line("spread_cpu", "-" if cpu_ok is None else f"{cpu[0]:.2f} vs {cpu[1]:.2f} ms", cpu_ok)
    line("hot", fmt(rh, "{:.0%}"), None if rh is None else rh >= 1.0, "" if rh is None or rh >= 0.75 else "below 75%")
    ol = measured("openloop")
    line(
        "openloop",
        "-" if ol is None else f"p99 {ol.p99_ms:.1f} ms at {args.rate:.0f}/s",
        None if ol is None else ol.p99_ms < 50,
        "" if ol is None or args.rate_from_pgbench else "rate given by --rate, not half of pgbench-spread",
    )
    rb = ratio("batch", "pgbench-spread")
    line("batch", fmt(rb, "{:.1f}x"), None if rb is None else rb >= 10)
    rg = ratio("grpc", "spread")
    line("grpc", fmt(rg, "{:.0%}"), None if rg is None else rg >= 1.0)
    if script_sample:
        w("")
        w("pgbench script (spread), billy's captured SQL with :cid/:wid/:uid substituted:")
        w(script_sample.rstrip())
    return "\n".join(out) + "\n"


def verdict(value, ok) -> str:
    if value is None:
        return "(not measured)"
    return "MET" if ok(value) else "NOT MET"


# -- main ---------------------------------------------------------------------------------------


def build_openloop(workdir: Path) -> Path:
    binary = workdir / "openloop"
    subprocess.run(["gcc", "-O2", "-Wall", "-o", str(binary), str(BENCH / "openloop.c")], check=True)
    return binary


def grpc_available() -> str | None:
    """Why the gRPC scenario cannot run, or None when it can."""
    protos = " ".join(p.read_text() for p in (ROOT / "proto").rglob("*.proto"))
    if "service ChargeService" not in protos:
        return "no billy.v1.ChargeService in proto/ yet"
    if not shutil.which(os.environ.get("BENCH_GHZ", "ghz")) and not (BENCH / "grpc_load.py").exists():
        return "no gRPC load generator: put ghz (https://ghz.sh, a Go binary) on PATH or in BENCH_GHZ"
    return None


def _grpc_python(*, args, key, port, server, postmaster, runid) -> Result:
    """The gRPC scenario with bench/grpc_load.py (Python, asyncio) when ghz is not installed."""
    cmd = [
        sys.executable,
        str(BENCH / "grpc_load.py"),
        f"127.0.0.1:{port}",
        "--key",
        key,
        "--clients",
        str(args.clients),
        "--concurrency",
        str(args.connections),
        "--duration",
        str(args.duration),
        "--run-id",
        runid,
    ]
    log(f"\n== grpc: grpc_load.py -c {args.connections} -d {args.duration}s billy.v1.ChargeService/CreateCharge")
    rc, out, err, gen_cpu, before, after = run_measured(
        cmd, env=dict(os.environ), server_pid=server.pid, postmaster_pid=postmaster, timeout=args.duration + 60
    )
    r = Result("grpc", "python")
    try:
        report_ = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        r.skipped = f"grpc_load.py failed (exit {rc}): {(err or out).strip()[-300:]}"
        log(r.skipped)
        return r
    r.charges, r.other, r.seconds = report_["ok"], report_["other"], report_["seconds"]
    r.other_by_status = {k: v for k, v in report_["statuses"].items() if k != "OK"}
    r.p50_ms, r.p99_ms = report_["p50_ms"], report_["p99_ms"]
    fill_cpu(r, before, after, gen_cpu)
    return r


def grpc_scenario(*, args, key, env, postmaster, runid) -> Result:
    """billy.v1.ChargeService/CreateCharge driven by ghz (closed loop, like wrk) against `billy grpc`.

    Untested hook: written before ghz was available on the bench machine. `billy grpc` is one
    process (a thread pool), so compare it with the HTTP scenarios at --workers 1.
    """
    port = free_port()
    logfile = Path(tempfile.gettempdir()) / f"billy-bench-grpc-{runid}.log"
    cmd = [BILLY, "grpc", "--port", str(port), "--max-workers", str(args.connections)]
    with open(logfile, "a") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=out, cwd=ROOT, start_new_session=True)
    _children.append(proc)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.2)
        data = {
            "workspace": "c2b",
            "service_client_id": "c{{randomInt 1 " + str(args.clients + 1) + "}}",
            "charge_id": f"g{runid}-{{{{.WorkerID}}}}-{{{{.RequestNumber}}}}",
            "product": "bench",
            "amount": "1.00",
        }
        if not shutil.which(os.environ.get("BENCH_GHZ", "ghz")):
            return _grpc_python(args=args, key=key, port=port, server=proc, postmaster=postmaster, runid=runid)
        ghz = [
            shutil.which(os.environ.get("BENCH_GHZ", "ghz")),
            "--insecure",
            "--proto",
            str(ROOT / "proto" / "billy" / "v1" / "money.proto"),
            "--import-paths",
            str(ROOT / "proto"),
            "--call",
            "billy.v1.ChargeService/CreateCharge",
            "-m",
            json.dumps({"authorization": f"Bearer {key}"}),
            "-d",
            json.dumps(data),
            "-c",
            str(args.connections),
            "-z",
            f"{max(1, round(args.duration))}s",
            "--format",
            "json",
            f"127.0.0.1:{port}",
        ]
        log(f"\n== grpc: ghz -c {args.connections} -z {args.duration}s billy.v1.ChargeService/CreateCharge")
        rc, out, err, gen_cpu, before, after = run_measured(
            ghz, env=dict(os.environ), server_pid=proc.pid, postmaster_pid=postmaster, timeout=args.duration + 60
        )
        r = Result("grpc", "ghz")
        try:
            report_ = json.loads(out)
        except ValueError:
            r.skipped = f"ghz failed (exit {rc}): {(err or out).strip()[-300:]}"
            log(r.skipped)
            return r
        codes = report_.get("statusCodeDistribution") or {}
        r.charges = int(codes.get("OK", 0))
        r.seconds = report_.get("total", 0) / 1e9
        r.other = sum(int(v) for k, v in codes.items() if k != "OK")
        r.other_by_status = {k: v for k, v in codes.items() if k != "OK"}
        lat = {d["percentage"]: d["latency"] / 1e6 for d in report_.get("latencyDistribution") or []}
        r.p50_ms, r.p99_ms = lat.get(50), lat.get(99)
        fill_cpu(r, before, after, gen_cpu)
        log(f"   {r.charges} charges = {r.rate:.0f}/s, p50 {fmt(r.p50_ms)} ms, p99 {fmt(r.p99_ms)} ms, other {codes}")
        return r
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        _children.remove(proc)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--duration", type=float, default=float(os.environ.get("BENCH_DURATION", "20")), help="seconds per scenario"
    )
    p.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", "3")))
    p.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "4")))
    p.add_argument("--connections", type=int, help="wrk connections and pgbench clients (default workers*threads)")
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--pgbench-threads", type=int, default=1)
    p.add_argument(
        "--rate", type=float, help="open-loop offered charges/s (default: half of pgbench-spread's rate, else 300)"
    )
    p.add_argument("--openloop-connections", type=int, default=64)
    p.add_argument("--clients", type=int, default=10000)
    p.add_argument("--batch-items", type=int, default=1000)
    p.add_argument("--batch-connections", type=int, default=2)
    p.add_argument(
        "--scenarios",
        default="spread,hot,openloop,batch,grpc,pgbench",
        help="comma-separated subset of spread,hot,openloop,batch,grpc,pgbench",
    )
    p.add_argument("--db", default=os.environ.get("BENCH_DB", "billy_bench"), help="scratch database (dropped!)")
    p.add_argument(
        "--fund-with", choices=["sql", "orm"], default="sql", help="fund wallets by set-based SQL or adjust_wallet"
    )
    p.add_argument("--keep", action="store_true", help="keep the database and the work directory afterwards")
    p.add_argument(
        "--profile",
        default="",
        help="comma-separated wrk scenarios to sample billy serve in with py-spy (profiled figures are slower)",
    )
    p.add_argument("--output", default=str(BENCH / "results-latest.txt"))
    args = p.parse_args()
    args.connections = args.connections or args.workers * args.threads
    args.profile = set(filter(None, args.profile.split(",")))
    scenarios = set(args.scenarios.split(","))
    args.pgbench = shutil.which("pgbench") or next(
        (str(x) for x in sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True)), None
    )
    for tool in ("wrk", "gcc"):
        if not shutil.which(tool):
            sys.exit(f"error: {tool} not found (bench/run installs wrk; gcc: apt-get install gcc)")
    if not args.pgbench:
        sys.exit("error: pgbench not found (Debian: the postgresql-15 package, /usr/lib/postgresql/15/bin)")

    base_url = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    admin_url = db_url(base_url, "postgres")
    url = db_url(base_url, args.db)
    workdir = Path(tempfile.mkdtemp(prefix="billy-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLY_BENCH")}
    env.update({"DATABASE_URL": url, "BILLY_LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "billy.settings"})
    server: Server | None = None
    log_setting_on = False

    def cleanup(*_sig):
        nonlocal log_setting_on
        if server:
            server.stop()
        for child in list(_children):
            with contextlib.suppress(ProcessLookupError):
                child.kill()
        if log_setting_on:
            with contextlib.suppress(Exception):
                sql(admin_url, f'ALTER DATABASE "{args.db}" RESET log_min_duration_statement', fetch=False)
            log_setting_on = False
        if not args.keep:
            with contextlib.suppress(Exception):
                sql(admin_url, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)', fetch=False)
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"kept database {args.db} and {workdir}")

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGINT too: a background job ignores it
        signal.signal(signum, on_signal)
    try:
        # 1. the scratch database, seeded
        log(f"database {args.db} on {urlsplit(url).hostname}:{urlsplit(url).port or 5432}; work dir {workdir}")
        sql(admin_url, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)', fetch=False)
        sql(admin_url, f'CREATE DATABASE "{args.db}"', fetch=False)
        postmaster = find_postmaster(url)
        if postmaster is None:
            log("PostgreSQL is not local: its CPU is not measured")
        billy("migrate", env=env)
        seed_env = {
            **env,
            "BENCH_CLIENTS": str(args.clients),
            "BENCH_WALLET_OFFSET": str(WALLET_OFFSET),
            "BENCH_CAPTURE_CLIENT_ID": str(CAPTURE_CLIENT_ID),
            "BENCH_FUND_WITH": args.fund_with,
        }
        log(billy("manage", "shell", "-c", (BENCH / "seed.py").read_text(), env=seed_env).strip().splitlines()[-1])
        key = billy("apikey", "create", "--workspace", "c2b", "--name", "bench", env=env).strip().splitlines()[-1]
        settings = pg_settings(url)
        openloop_bin = build_openloop(workdir) if "openloop" in scenarios else None

        # 2. capture the SQL of one charge from the server's log (only this database logs statements)
        pg_log = find_server_log(url, postmaster)
        captured: list[Statement] = []
        script_body, notes = "", []
        port = free_port()
        if "pgbench" in scenarios:
            if pg_log is None or not os.access(pg_log, os.R_OK):
                sys.exit("error: cannot read PostgreSQL's log to capture the SQL (run as root or postgres, locally)")
            sql(admin_url, f'ALTER DATABASE "{args.db}" SET log_min_duration_statement = 0', fetch=False)
            log_setting_on = True
            server = Server(env=env, workers=1, threads=1, port=port, logfile=workdir / "serve.log")
            server.start()
            # warm-up: creates the workspace's REVENUE account, as in steady state
            status, body = http("POST", charge_url(server, HOT_CLIENT), key, charge_body("warmup"))
            if status != 201:
                sys.exit(f"error: warm-up charge answered {status}: {body}")
            next_ids = reset_sequences(url)
            offset = pg_log.stat().st_size
            status, body = http("POST", charge_url(server, "capture"), key, charge_body(CAPTURE_CHARGE_ID))
            if status != 201:
                sys.exit(f"error: capture charge answered {status}: {body}")
            time.sleep(0.5)
            with open(pg_log, "rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
            server.stop()
            sql(admin_url, f'ALTER DATABASE "{args.db}" RESET log_min_duration_statement', fetch=False)
            log_setting_on = False
            captured = parse_log(text, db=args.db, marker=CAPTURE_CHARGE_ID)
            if not any(CAPTURE_CHARGE_ID in s.sql for s in captured):
                sys.exit(f"error: the capture charge's SQL is not in {pg_log}")
            script_body, notes = to_pgbench(captured, next_ids, service_id="capture")
            mode = pgbench_mode(captured)
            if mode == "prepared":
                script_body = for_prepared(script_body)
            log(f"captured {len(captured)} statements of one charge from {pg_log}")
            out_dir = BENCH / "out"
            out_dir.mkdir(exist_ok=True)
            (out_dir / "captured-charge.sql").write_text(
                "".join(f"-- {s.ms:.3f} ms\n{s.sql.strip()};\n" for s in captured)
            )
            spread_script = out_dir / "pgbench-spread.sql"
            hot_script = out_dir / "pgbench-hot.sql"
            head = "\\set uid random(1, 9000000000000000000)\n"
            spread_script.write_text(
                f"-- billy's SQL for one charge (captured), a random client of {args.clients}\n{head}"
                f"\\set cid random(1, {args.clients})\n\\set wid :cid + {WALLET_OFFSET}\n{script_body}"
            )
            hot_script.write_text(
                f"-- billy's SQL for one charge (captured), always client {HOT_CLIENT}\n{head}"
                f"\\set cid {HOT_CLIENT[1:]}\n\\set wid :cid + {WALLET_OFFSET}\n{script_body}"
            )
            # one dry run: the script must work as one charge does
            check = subprocess.run(
                [args.pgbench, "-n", "-M", mode, "-t", "1", "-c", "1", "-f", str(spread_script)],
                env=pg_env(url),
                capture_output=True,
                text=True,
                check=False,
            )
            if check.returncode != 0:
                sys.exit(f"error: the pgbench script fails:\n{check.stdout}\n{check.stderr}")

        # 3. pgbench first, on the machine alone: the open loop's rate is half of pgbench-spread's
        results: dict[str, Result] = {}
        if "pgbench" in scenarios:
            runs = [("pgbench-spread", spread_script, False), ("pgbench-hot", hot_script, False)]
            if os.environ.get("BILLY_DB_CONN_MAX_AGE", "60") == "0":  # billy's default is 60
                runs.append(("pgbench-spread-C", spread_script, True))
            for name, script, reconnect in runs:
                results[name] = pgbench_scenario(
                    name,
                    args=args,
                    script=script,
                    mode=mode,
                    connections=args.connections,
                    env=pg_env(url),
                    postmaster=postmaster,
                    server_pid=None,
                    reconnect=reconnect,
                )
            if "pgbench-spread-C" in results:
                results[
                    "pgbench-spread-C"
                ].note = "a new connection per charge, as billy with BILLY_DB_CONN_MAX_AGE=0; latency is the average"
        args.rate_from_pgbench = args.rate is None
        if args.rate is None:
            pg = results.get("pgbench-spread")
            args.rate = round(pg.rate / 2) if pg and not pg.skipped and pg.rate else 300.0

        # 4. the server under load
        server = Server(env=env, workers=args.workers, threads=args.threads, port=port, logfile=workdir / "serve.log")
        server.start()
        log(f"billy serve on {server.url}: {args.workers} workers x {args.threads} threads (pid {server.proc.pid})")
        gen_env = dict(os.environ)
        runid = f"{int(time.time()) % 100000}"
        # warm every worker's imports and connections a little before measuring
        for i in range(args.workers * 2):
            http("POST", charge_url(server, f"c{i + 2}"), key, charge_body(f"w-{runid}-{i}"))

        common = {"args": args, "server": server, "key": key, "env": gen_env, "postmaster": postmaster}
        if "spread" in scenarios:
            results["spread"] = wrk_scenario(
                "spread",
                script="charges.lua",
                lua_args=["spread", key, str(args.clients), f"s{runid}"],
                connections=args.connections,
                **common,
            )
        if "hot" in scenarios:
            results["hot"] = wrk_scenario(
                "hot",
                script="charges.lua",
                lua_args=["hot", key, HOT_CLIENT, f"h{runid}"],
                connections=args.connections,
                **common,
            )
        if "openloop" in scenarios:
            results["openloop"] = openloop_scenario(
                args=args,
                server=server,
                key=key,
                binary=openloop_bin,
                env=gen_env,
                postmaster=postmaster,
                runid=f"o{runid}",
            )
        if "batch" in scenarios:
            status, body = http(
                "POST",
                f"{server.url}/api/v1/workspaces/c2b/charges:batch",
                key,
                {"charges": [{"service_client_id": "c3", **charge_body(f"probe-{runid}")}]},
            )
            if status in (404, 405):
                results["batch"] = Result("batch", "wrk", skipped=f"the batch endpoint answers {status}: not there yet")
                log(f"\n== batch: skipped ({status}: {body[:120]})")
            else:
                results["batch"] = wrk_scenario(
                    "batch",
                    script="batch.lua",
                    lua_args=[key, str(args.clients), str(args.batch_items), f"b{runid}"],
                    connections=args.batch_connections,
                    **common,
                )
        if "grpc" in scenarios:
            why = grpc_available()
            if why:
                results["grpc"] = Result("grpc", "ghz", skipped=why)
                log(f"\n== grpc: skipped ({why})")
            else:
                results["grpc"] = grpc_scenario(args=args, key=key, env=env, postmaster=postmaster, runid=runid)
        server.stop()
        server = None

        text = report(
            results,
            args=args,
            settings=settings,
            captured=captured,
            notes=notes,
            script_sample=script_body and spread_script.read_text(),
        )
        log("\n" + text)
        Path(args.output).write_text(text)
        log(f"written to {args.output}")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
