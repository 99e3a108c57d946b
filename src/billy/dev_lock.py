"""One `billy dev` per data directory, and per database.

A second `billy dev` on the same data directory would share the first's database and emulator state
(and re-point the demo shop at its own emulator), while its servers took free ports and its banner
claimed a billy of its own. Before starting anything, `billy dev` takes an exclusive `flock` on
`dev.lock` in the data directory, held until it exits (the kernel releases it even on SIGKILL), and
writes its pid, then its servers' ports, there. A second one finds the lock taken, names the first
one's pid and the ports of its own settings that the first holds, with the settings that move them,
and stops with `dev_already_running`.

Two `billy dev`s with their own data directories but one `DATABASE_URL` would share a database the
same way, so `billy dev` also holds a session advisory lock in its database (PostgreSQL keys advisory
locks by database), on a connection named after its pid. The claim is checked at the start; a
database restart ends that session and with it the claim, until the next start.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import psycopg

from billy.core.errors import CommandError

# The advisory lock key `billy dev` holds in its database ("billydev" read as a number, any would do).
DATABASE_LOCK_KEY = int.from_bytes(b"billydev", "big") >> 1

# What the banner calls each server, for the message that names another `billy dev`'s ports.
PORT_TITLES = {
    "serve": "HTTP API",
    "grpc": "gRPC",
    "balance": "Balance emulator",
    "yookassa": "YooKassa emulator",
    "auth": "Auth API emulator",
    "notifications": "notifications emulator",
}


class DevLock:
    """`billy dev`'s claim on its data directory: an exclusive `flock` on `dev.lock`, with who holds it."""

    def __init__(self, data_dir: Path, *, ports: dict[str, tuple[str, int]]) -> None:
        self.path = data_dir / "dev.lock"
        self.data_dir = data_dir
        self.ports = ports  # server name -> (variable that sets its port, default)
        self.file = None

    def acquire(self) -> None:
        """Take the lock, or raise CommandError `dev_already_running` naming who has it."""
        file = open(self.path, "a+")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = _read_holder(file.read())
            file.close()
            raise CommandError("dev_already_running", self._already_running(holder)) from None
        self.file = file
        self.record()

    def record(self, ports: dict[str, int] | None = None) -> None:
        """Write who holds the lock (and, once they listen, the servers' ports) for a second `billy dev` to read."""
        self.file.seek(0)
        self.file.truncate()
        self.file.write(json.dumps({"pid": os.getpid(), "ports": ports or {}}))
        self.file.flush()

    def release(self) -> None:
        if self.file is not None:
            self.file.close()  # closing the descriptor releases the lock
            self.file = None

    def _already_running(self, holder: dict) -> str:
        who = f"billy dev (pid {holder['pid']})" if holder.get("pid") else "another billy dev"
        ports = holder.get("ports") or {}
        taken = [
            f"{PORT_TITLES.get(name, name)} port {ports[name]} ({variable})"
            for name, (variable, default) in self.ports.items()
            if name in ports and str(ports[name]) == (os.environ.get(variable) or str(default))
        ]
        uses = f" and listens on the ports this one would use: {', '.join(taken)}" if taken else ""
        return (
            f"{who} is already running with the data directory {self.data_dir}{uses}; stop it first, or run "
            "this one with another BILLY_DATA_DIR (its own database; taken ports are then replaced by free ones)."
        )


def _read_holder(text: str) -> dict:
    try:
        holder = json.loads(text)
    except ValueError:  # written in the same instant: say what is known
        return {}
    return holder if isinstance(holder, dict) else {}


def claim_database(url: str) -> psycopg.Connection:
    """A connection holding the database's `billy dev` advisory lock: keep it open while running.

    Raises CommandError `dev_already_running`, naming the holder, when another session has it."""
    connection = psycopg.connect(url, autocommit=True, application_name=f"billy dev (pid {os.getpid()})")
    (claimed,) = connection.execute("SELECT pg_try_advisory_lock(%s)", [DATABASE_LOCK_KEY]).fetchone()
    if claimed:
        return connection
    row = connection.execute(
        """
        SELECT a.application_name
          FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.database = a.datid
           AND (l.classid::bigint << 32) | l.objid::bigint = %s
        """,
        [DATABASE_LOCK_KEY],
    ).fetchone()
    connection.close()
    info = psycopg.conninfo.conninfo_to_dict(url)
    where = f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}/{info.get('dbname') or ''}"
    who = row[0] if row and row[0] else "another billy dev"
    raise CommandError(
        "dev_already_running",
        f"{who} is already running with the database {where} (DATABASE_URL); stop it first, or give this one "
        "another database (or unset DATABASE_URL for a private cluster in BILLY_DATA_DIR).",
    )
