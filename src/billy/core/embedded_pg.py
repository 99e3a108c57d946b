"""A private PostgreSQL cluster under billy's data directory, for when DATABASE_URL is unset.

The binaries are the machine's PostgreSQL (Debian keeps them in /usr/lib/postgresql/*/bin) when
present, otherwise those shipped in the `pgserver` wheel; we run the binaries directly and never
pgserver's Python API. Nothing outside the data directory is changed. PostgreSQL refuses to run as
root, so under root the cluster belongs to the `postgres` system user (or `nobody`); only the
cluster's own directory is handed to that user. It listens on 127.0.0.1 only, on a port kept in
the data directory, with trust authentication for the local user `postgres`.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import logging
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = ".billy"

logger = logging.getLogger(__name__)


class EmbeddedPostgresError(RuntimeError):
    """The private cluster could not be prepared or started; the message says why and what to do."""


def data_dir_from_env() -> Path:
    return Path(os.environ.get("BILLY_DATA_DIR", DEFAULT_DATA_DIR)).resolve()


def find_bin_dir() -> Path:
    """The directory with initdb/pg_ctl/postgres: $BILLY_PG_BIN, the machine's, or pgserver's."""
    explicit = os.environ.get("BILLY_PG_BIN")
    if explicit:
        path = Path(explicit)
        if not (path / "pg_ctl").exists():
            raise EmbeddedPostgresError(f"BILLY_PG_BIN={explicit} has no pg_ctl")
        return path
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "postgres").exists():
            return Path(candidate)
    try:
        import pgserver
    except ImportError as e:
        raise EmbeddedPostgresError(
            "No PostgreSQL binaries found: install PostgreSQL, the pgserver wheel, or set DATABASE_URL"
        ) from e
    path = Path(pgserver.__file__).parent / "pginstall" / "bin"
    if not (path / "pg_ctl").exists():
        raise EmbeddedPostgresError(f"pgserver's binaries are missing in {path}")
    return path


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    bin_dir: Path | None = None

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        if self.bin_dir is None:
            self.bin_dir = find_bin_dir()

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pg"

    @property
    def log_file(self) -> Path:
        return self.pgdata / "server.log"

    @property
    def port_file(self) -> Path:
        return self.pgdata / "billy.port"

    # -- running as a non-root user -------------------------------------------------------
    def _run_as(self) -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        for name in ("postgres", "nobody"):
            with contextlib.suppress(KeyError):
                return pwd.getpwnam(name)
        raise EmbeddedPostgresError("Running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")

    def _check_traversable(self, user: pwd.struct_passwd) -> None:
        for parent in [self.data_dir, *self.data_dir.parents]:
            st = parent.stat()
            if st.st_mode & 0o001 or (st.st_uid == user.pw_uid and st.st_mode & 0o100):
                continue
            raise EmbeddedPostgresError(
                f"PostgreSQL runs as '{user.pw_name}' (it refuses root) and cannot enter {parent}; "
                "set BILLY_DATA_DIR to a directory outside it, or set DATABASE_URL"
            )

    def _bin(self, name: str) -> str:
        return str(self.bin_dir / name)

    def _run(self, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        user = self._run_as()
        command = args if user is None else [*_as_user(user), *args]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        result = subprocess.run(command, capture_output=True, text=True, cwd=str(self.data_dir), env=env, check=False)
        if check and result.returncode != 0:
            raise EmbeddedPostgresError(
                f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}"
            )
        return result

    # -- lifecycle -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _lock(self):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / ".pg.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def is_initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def initialize(self) -> None:
        """initdb into a scratch directory renamed into place: a killed initdb leaves no half cluster."""
        user = self._run_as()
        scratch = self.data_dir / "pg.init"
        if scratch.exists():
            shutil.rmtree(scratch)
        scratch.mkdir(parents=True)
        os.chmod(scratch, 0o700)
        if user is not None:
            # The data directory is ours: let the PostgreSQL user pass through it.
            os.chmod(self.data_dir, self.data_dir.stat().st_mode | 0o001)
            self._check_traversable(user)
            os.chown(scratch, user.pw_uid, user.pw_gid)
        self._run(
            [
                self._bin("initdb"),
                "-D",
                str(scratch),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ]
        )
        scratch.rename(self.pgdata)

    def running_port(self) -> int | None:
        """The port of the running server, or None when it is not running."""
        if not self.is_initialized():
            return None
        status = self._run([self._bin("pg_ctl"), "status", "-D", str(self.pgdata)], check=False)
        if status.returncode != 0:
            return None
        pid_file = (self.pgdata / "postmaster.pid").read_text().splitlines()
        return int(pid_file[3])

    def _choose_port(self) -> int:
        if self.port_file.exists():
            port = int(self.port_file.read_text().strip())
            if _port_is_free(port):
                return port
        port = _free_port()
        self.port_file.write_text(str(port))
        user = self._run_as()
        if user is not None:
            os.chown(self.port_file, user.pw_uid, user.pw_gid)
        return port

    def start(self) -> int:
        """Initialise (first time) and start the cluster if needed; return its port."""
        with self._lock():
            if not self.is_initialized():
                self.initialize()
            port = self.running_port()
            if port is not None:
                return port
            for attempt in range(3):
                port = self._choose_port()
                try:
                    self._pg_ctl_start(port)
                except EmbeddedPostgresError:
                    # Another program may have taken the port between our check and the start.
                    if attempt == 2 or _port_is_free(port):
                        raise
                    self.port_file.unlink(missing_ok=True)
                    continue
                _wait_for_port(port, timeout=30)
                return port
            raise AssertionError("unreachable")

    def _pg_ctl_start(self, port: int) -> None:
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        self._run(
            [
                self._bin("pg_ctl"),
                "start",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "-o",
                options,
            ]
        )

    def stop(self, *, fast_timeout: int = 60) -> None:
        """Stop the server: a fast shutdown (sessions ended, a checkpoint written); if that has not
        finished within `fast_timeout` seconds (a slow disk under load, a stuck client), an immediate
        one, after which the next start recovers from the WAL like after a crash: nothing committed is
        lost either way."""
        with self._lock():
            if self.running_port() is None:
                return
            pg_ctl = [self._bin("pg_ctl"), "stop", "-D", str(self.pgdata), "-w"]
            fast = self._run([*pg_ctl, "-m", "fast", "-t", str(fast_timeout)], check=False)
            if fast.returncode == 0 or self.running_port() is None:
                return
            logger.warning(
                "PostgreSQL did not finish a fast shutdown within %s s; stopping it immediately", fast_timeout
            )
            immediate = self._run([*pg_ctl, "-m", "immediate", "-t", "60"], check=False)
            if immediate.returncode != 0 and self.running_port() is not None:
                raise EmbeddedPostgresError(
                    f"pg_ctl failed ({immediate.returncode}): {immediate.stderr.strip() or immediate.stdout.strip()}"
                )

    def url(self, database: str, port: int) -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{database}"


def ensure_database(url: str) -> None:
    """Create the database named in `url` if it does not exist (connects to `postgres`)."""
    import psycopg
    from psycopg import sql

    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.get("dbname") or "postgres"
    admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# Become `user` and exec the program that follows, in a fresh interpreter. The privileges are not
# dropped by subprocess's user=/group=/extra_groups= (nor a preexec_fn): with any of them CPython
# must fork() this process and run code in the child before exec, and fork() runs the fork handlers
# of every library loaded here. gRPC's run while its event-engine threads are alive (the tests, and
# any process that has made a gRPC call) and crash or abort the child before it reaches initdb or
# pg_ctl. Without them subprocess uses vfork(), which runs no fork handlers and copies nothing.
_DROP_PRIVILEGES_AND_EXEC = (
    "import os, sys; os.setgroups([]); os.setgid(int(sys.argv[2])); os.setuid(int(sys.argv[1])); "
    "os.execv(sys.argv[3], sys.argv[3:])"
)


def _as_user(user: pwd.struct_passwd) -> list[str]:
    return [sys.executable, "-I", "-S", "-c", _DROP_PRIVILEGES_AND_EXEC, str(user.pw_uid), str(user.pw_gid)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as PostgreSQL itself binds
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise EmbeddedPostgresError(f"PostgreSQL did not open port {port} within {timeout}s")


def ensure_database_url(database: str = "billy") -> str:
    """DATABASE_URL if set; else start the private cluster and return its URL (database created)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    cluster = EmbeddedPostgres(data_dir_from_env())
    port = cluster.start()
    url = cluster.url(database, port)
    ensure_database(url)
    return url


__all__ = [
    "EmbeddedPostgres",
    "EmbeddedPostgresError",
    "data_dir_from_env",
    "ensure_database",
    "ensure_database_url",
    "find_bin_dir",
]
