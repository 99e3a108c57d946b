"""A scratch database for the benchmarks that run billy in their own process: created afresh on
DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432), migrated, Django set up on it,
and dropped when the benchmark ends, also on a failure."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def database_url(name: str) -> str:
    base = urlsplit(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    return urlunsplit(base._replace(path="/" + name))


@contextlib.contextmanager
def scratch_billy(name: str, **env: str) -> Iterator[None]:
    """Recreate database `name`, migrate it and set Django up on it (with `env` as billy settings)."""
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    os.environ.update({"DATABASE_URL": database_url(name), "BILLY_LOG_LEVEL": "ERROR", **env})
    subprocess.run([str(ROOT / ".venv" / "bin" / "billy"), "migrate"], check=True, cwd=ROOT, capture_output=True)
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billy.settings")
    import django

    django.setup()
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
