"""`billy dev`'s child processes, kept running until Ctrl-C; and its embedded cluster, kept up.

Each child runs in its own session (Ctrl-C reaches only `billy dev`, which stops them in order).
A child that exits for any reason, a SIGKILL included, is started again with the same arguments
after a backoff that doubles from 1 s to 30 s and starts over once the child has run a minute: one
line says which child exited, how, and when it comes back. What it left behind in its session (a
gunicorn master's workers, say) is killed first, so the new one gets the same port. A server keeps
the port it first got: the banner and the other processes name it.

When `billy dev` started the embedded cluster and the cluster stops answering (someone ran
`pg_ctl restart` or `pg_ctl stop`, or it crashed), `billy dev` waits `CLUSTER_GRACE` seconds, since a
restart brings it back on its own, then starts it again itself, and says so. Meanwhile every billy
process waits for it: the worker reconnects, HTTP answers `503` and gRPC `UNAVAILABLE`.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from billy.core.embedded_pg import EmbeddedPostgres, EmbeddedPostgresError

# How long a child may take to start on a busy machine before `billy dev` gives up.
START_TIMEOUT = 120
# A child that dies is started again after 1 s, 2 s, 4 s, ... up to RESTART_CAP seconds; a child that
# has run RESTART_RESET seconds starts over at 1 s when it dies.
RESTART_CAP = 30.0
RESTART_RESET = 60.0
# How long the cluster may not answer before `billy dev` starts it again (a `pg_ctl restart` takes
# a few seconds), and how long between two attempts when starting it fails.
CLUSTER_GRACE = 10.0
CLUSTER_RETRY = 5.0


class Stopped(Exception):
    """Ctrl-C (or SIGTERM) came while `billy dev` was starting."""


@dataclasses.dataclass
class _Child:
    name: str
    args: list[str]
    process: subprocess.Popen
    started_at: float
    failures: int = 0
    restart_at: float | None = None  # set while the child waits to be started again


def _how(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with {returncode}"


class Children:
    """billy's child processes: started, kept running (restarted when they die), stopped together."""

    def __init__(self, run_dir: Path, stopping: threading.Event, *, ports: dict[str, tuple[str, int]]) -> None:
        self.run_dir = run_dir
        self.stopping = stopping
        self.ports = ports  # server name -> (variable that sets its port, default)
        self.children: dict[str, _Child] = {}

    def spawn(self, name: str, *args: str) -> None:
        self.children[name] = _Child(name, list(args), self._popen(args), time.monotonic())

    @staticmethod
    def _popen(args) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "billy", *args], start_new_session=True)

    def server(self, name: str, *args: str) -> Path:
        """Start a server on its port, or a free one when that is taken; returns the file it writes the port to."""
        variable, default = self.ports[name]
        port_file = self.run_dir / f"{name}.port"
        port = os.environ.get(variable) or str(default)
        self.spawn(name, *args, "--port", port, "--or-free-port", "--port-file", str(port_file))
        return port_file

    def port(self, name: str, port_file: Path) -> int:
        """The port server `name` listens on, once it does; a restart asks for this port again."""
        self._wait(name, port_file.exists, f"did not start listening within {START_TIMEOUT} s")
        port = int(port_file.read_text())
        child = self.children[name]
        at = child.args.index("--port")
        child.args = [*child.args[:at], "--port", str(port)]  # no fallback to another port, no port file
        return port

    def add_args(self, name: str, *args: str) -> None:
        """Arguments child `name` takes from its next start on (what it was told at run time: a restart
        must not forget it)."""
        self.children[name].args.extend(args)

    def wait_http(self, name: str, url: str) -> None:
        import httpx

        def answers() -> bool:
            try:
                return httpx.get(url, timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        self._wait(name, answers, f"did not answer {url} within {START_TIMEOUT} s")

    def _wait(self, name: str, done: Callable[[], bool], failure: str) -> None:
        process = self.children[name].process
        deadline = time.monotonic() + START_TIMEOUT
        while not done():
            if self.stopping.is_set():
                raise Stopped()
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} {failure}")
            time.sleep(0.1)

    def supervise(self) -> None:
        """Start again the children that died, each after its backoff; say so once per death."""
        now = time.monotonic()
        for child in self.children.values():
            if child.restart_at is None:
                returncode = child.process.poll()
                if returncode is None:
                    continue
                _kill_session(child.process)
                if now - child.started_at >= RESTART_RESET:
                    child.failures = 0
                delay = min(RESTART_CAP, 2.0**child.failures)
                child.failures += 1
                child.restart_at = now + delay
                print(f"[dev] {child.name} {_how(returncode)}; starting it again in {delay:g} s", flush=True)
            elif now >= child.restart_at:
                child.process = self._popen(child.args)
                child.started_at = now
                child.restart_at = None

    def restart(self, names: list[str], why: str) -> None:
        """Stop these children now; `supervise` starts them again (with the environment as it is then)."""
        print(f"[dev] {why}: restarting {', '.join(names)}", flush=True)
        for name in names:
            child = self.children[name]
            child.failures = 0
            _terminate([child.process])

    def stop(self) -> None:
        _terminate([child.process for child in self.children.values()])


def _kill_session(process: subprocess.Popen) -> None:
    """Kill what a dead child left running in its session (its process group has the child's pid)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _terminate(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to each process's session, SIGKILL to what is left after 15 s."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_session(process)
            process.wait()


class ClusterKeeper:
    """Keeps the embedded cluster `billy dev` started running; `on_moved(port)` if it had to move."""

    def __init__(self, cluster: EmbeddedPostgres, port: int, on_moved: Callable[[int], None]) -> None:
        self.cluster = cluster
        self.port = port
        self.on_moved = on_moved
        self.down_since: float | None = None
        self.next_start = 0.0

    def check(self) -> None:
        now = time.monotonic()
        if _answers(self.port):
            if self.down_since is not None:
                print(f"[dev] PostgreSQL answers again on port {self.port}", flush=True)
                self.down_since = None
            return
        if self.down_since is None:
            self.down_since = now
            self.next_start = now + CLUSTER_GRACE
            print(f"[dev] PostgreSQL does not answer on port {self.port}; billy waits for it", flush=True)
            return
        if now < self.next_start:
            return
        print(f"[dev] PostgreSQL has not come back in {now - self.down_since:.0f} s; starting it", flush=True)
        try:
            port = self.cluster.start()
        except EmbeddedPostgresError as e:
            print(f"[dev] PostgreSQL did not start: {e}; trying again in {CLUSTER_RETRY:g} s", flush=True)
            self.next_start = time.monotonic() + CLUSTER_RETRY
            return
        if port != self.port:
            self.port = port
            self.on_moved(port)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False
