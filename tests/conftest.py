"""Shared fixtures: a Balance emulator on loopback, a multi-process `billy serve`, factories.

Tests that depend on commits (registration commits step by step) use `transactional_db`.

Nothing here depends on timing or on a port staying free: servers bind port 0 themselves and say
which port they got; a wait polls for what it waits for, with a deadline only a failure reaches on
a busy machine; a timeout that must expire (a fault) is far from one that must not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from billy.core import clock
from billy.integrations.balance.client import XmlRpcBalance
from billy.integrations.balance.emulator import BalanceEmulator, BalanceEmulatorControl
from billy.integrations.cards.client import HttpCardSystem
from billy.integrations.cards.emulator import DEV_TOKEN as CARDS_TOKEN
from billy.integrations.cards.emulator import CardsEmulator, CardsEmulatorControl
from billy.integrations.identity.client import HttpIdentityProvider
from billy.integrations.identity.emulator import DEV_TOKEN as IDENTITY_TOKEN
from billy.integrations.identity.emulator import IdentityEmulator, IdentityEmulatorControl
from billy.ledger.postings import forget_system_accounts
from billy.workspaces import operations as workspace_operations
from billy.workspaces.models import Workspace

ROOT = Path(__file__).resolve().parent.parent
# The adapter's read timeout in tests. Every call but a fault's is answered in milliseconds, and
# must be even on a busy machine; a `commit_then_timeout` fault hangs for COMMIT_THEN_TIMEOUT_SECONDS,
# well past it, so the caller times out (and each such test waits this long).
TEST_BALANCE_TIMEOUT = 3.0
COMMIT_THEN_TIMEOUT_SECONDS = 6.0
# How long a process the tests start may take to be ready: only a failure waits this long.
START_TIMEOUT = 120
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

# Examples run as long as they need: a busy machine must not fail a property on a stopwatch. No example
# database: a run does not depend on what an earlier run found.
hypothesis_settings.register_profile(
    "billy", deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
hypothesis_settings.load_profile("billy")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `runs_last` check what all the others did: they go after them."""
    items.sort(key=lambda item: item.get_closest_marker("runs_last") is not None)


@pytest.fixture
def refused_port():
    """A loopback port that refuses connections: bound here and never listened on, so no one can take it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


@pytest.fixture(scope="session")
def balance_emulator():
    emulator = BalanceEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def balance_control(balance_emulator, settings) -> BalanceEmulatorControl:
    """The emulator's control API, reset for each test; billy's settings point at the emulator."""
    control = BalanceEmulatorControl(balance_emulator.base_url)
    control.reset()
    settings.BALANCE_URL = balance_emulator.url
    settings.BALANCE_TIMEOUT = TEST_BALANCE_TIMEOUT
    settings.BALANCE_CONNECT_TIMEOUT = 1.0
    return control


@pytest.fixture
def balance(balance_emulator, balance_control) -> XmlRpcBalance:
    return XmlRpcBalance(url=balance_emulator.url, operator_uid=0, connect_timeout=1.0, timeout=TEST_BALANCE_TIMEOUT)


# The card system adapter's read timeout: room for a busy machine; a commit_then_timeout fault hangs past it.
CARDS_TIMEOUT = 3.0


@pytest.fixture(scope="session")
def cards_emulator():
    emulator = CardsEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def cards(cards_emulator, settings) -> CardsEmulatorControl:
    """The emulator's control API, reset for each test; billy's settings point at the emulator."""
    control = CardsEmulatorControl(cards_emulator.base_url)
    control.reset()
    settings.CARDS_URL = cards_emulator.base_url
    settings.CARDS_TIMEOUT = CARDS_TIMEOUT
    settings.CARDS_CONNECT_TIMEOUT = 1.0
    return control


@pytest.fixture
def card_system(cards_emulator, cards) -> HttpCardSystem:
    return HttpCardSystem(cards_emulator.base_url, CARDS_TOKEN, connect_timeout=1.0, timeout=CARDS_TIMEOUT)


# The identity provider adapter's read timeout in tests; a commit_then_timeout fault hangs past it.
IDENTITY_TIMEOUT = 3.0


@pytest.fixture(scope="session")
def identity_emulator():
    emulator = IdentityEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def identity(identity_emulator, settings) -> IdentityEmulatorControl:
    """The identity provider emulator's control API, reset for each test; billy's settings point at it."""
    control = IdentityEmulatorControl(identity_emulator.base_url)
    control.reset()
    control.set_rate(None)
    settings.IDENTITY_URL = identity_emulator.base_url
    settings.IDENTITY_TIMEOUT = IDENTITY_TIMEOUT
    settings.IDENTITY_CONNECT_TIMEOUT = 1.0
    return control


@pytest.fixture
def identity_provider(identity_emulator, identity) -> HttpIdentityProvider:
    return HttpIdentityProvider(
        identity_emulator.base_url, IDENTITY_TOKEN, connect_timeout=1.0, timeout=IDENTITY_TIMEOUT
    )


def make_workspace(name: str = "c2b", **overrides) -> Workspace:
    defaults = {
        "title": name.upper(),
        "balance_service_id": 1002,
        "balance_integration": name,
        "balance_configuration": f"{name}_default",
    }
    return workspace_operations.upsert_workspace(name=name, now=NOW, **{**defaults, **overrides})


def make_api_key(*workspaces: str, role: str = "SERVICE") -> str:
    return workspace_operations.create_api_key(
        name="test", workspace_names=workspaces, role=role, now=clock.now()
    ).secret


# Events the feed's own tests write by hand to test its order, not produced by billy.
SYNTHETIC_EVENT_TYPES = {"fast", "slow", "test.event"}


def _test_database_is_set_up() -> bool:
    """Whether pytest-django has switched the connection to the test database (it renames the
    connection's NAME to the TEST NAME, or to `test_<name>` when none is set)."""
    settings_dict = connection.settings_dict
    test_name = (settings_dict.get("TEST") or {}).get("NAME")
    return settings_dict["NAME"] == test_name if test_name else settings_dict["NAME"].startswith("test_")


@pytest.fixture(scope="session", autouse=True)
def every_event_matches_its_schema(django_db_setup, django_db_blocker):
    """Every event the suite writes (in this process or in the billy processes it starts) is copied
    by a trigger into a table the test flush leaves alone; at the end each must validate against
    its registered type's JSON Schema."""
    from jsonschema import Draft202012Validator, FormatChecker

    from billy.core.timestamps import is_timestamp
    from billy.events.registry import EVENT_TYPES

    if not _test_database_is_set_up():
        yield  # no test of this run uses the database, so pytest-django set none up: no event either
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TABLE IF NOT EXISTS test_event_seen (type text, version int, data jsonb);
            CREATE OR REPLACE FUNCTION test_event_seen() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO test_event_seen VALUES (NEW.type, NEW.version, NEW.data);
                RETURN NULL;
            END $$;
            CREATE OR REPLACE TRIGGER test_event_seen AFTER INSERT ON event
                FOR EACH ROW EXECUTE FUNCTION test_event_seen();
            """
        )
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT type, version, data::text FROM test_event_seen")
        rows = cursor.fetchall()
    problems = []
    for type_, version, data in rows:
        if type_ in SYNTHETIC_EVENT_TYPES:
            continue
        event_type = EVENT_TYPES.get(type_)
        if event_type is None or event_type.version != version:
            problems.append(f"{type_} v{version}: not a registered type and version")
            continue
        payload = json.loads(data)
        validator = Draft202012Validator(event_type.schema, format_checker=FormatChecker())
        problems += [f"{type_} v{version}: {e.message}" for e in validator.iter_errors(payload)]
        problems += [
            f"{type_} v{version}: {name} {value!r} is not written by billy.core.timestamps"
            for name, value in payload.items()
            if (name == "at" or name.endswith("_at")) and not (isinstance(value, str) and is_timestamp(value))
        ]
    assert not problems, f"{len(problems)} events do not match their schemas: {sorted(set(problems))[:20]}"


@pytest.fixture
def jobs_cleanup(transactional_db):
    """Procrastinate's tables are not Django-managed, so the test flush leaves them: empty them."""

    def truncate():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE procrastinate_jobs, procrastinate_periodic_defers RESTART IDENTITY CASCADE")
        forget_system_accounts()  # the test flush empties the ledger too

    truncate()
    yield
    truncate()


@pytest.fixture
def workspace(transactional_db, jobs_cleanup) -> Workspace:
    return make_workspace("c2b")


def database_url_for_children() -> str:
    """The URL of the test database, for billy processes the tests start."""
    s = connection.settings_dict
    return f"postgresql://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def billy_process(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "billy", *args],
        env={**os.environ, "DATABASE_URL": database_url_for_children(), **(env or {})},
        **kwargs,
    )


def wait_for(condition: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll until `condition()` is truthy and return it; fail the test after `timeout` seconds (only a
    failure waits that long, so it leaves room for a busy machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")


def wait_until(condition: Callable[[], object], process: subprocess.Popen, what: str) -> None:
    """Poll `condition` while `process` runs; fail if it exits, or after START_TIMEOUT."""
    deadline = time.monotonic() + START_TIMEOUT
    while not condition():
        assert process.poll() is None, f"{what}: the process exited with {process.returncode}"
        assert time.monotonic() < deadline, f"{what}: not within {START_TIMEOUT} s"
        time.sleep(0.1)


def wait_http(url: str, process: subprocess.Popen) -> None:
    def answers() -> bool:
        try:
            return httpx.get(url, timeout=10).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, process, f"{url} answering 200")


def billy_server(*args: str, port_file: Path, **kwargs) -> tuple[subprocess.Popen, int]:
    """`billy serve`/`billy grpc` on a port it picks itself, and that port once it listens."""
    process = billy_process(*args, "--port", "0", "--port-file", str(port_file), **kwargs)
    wait_until(port_file.exists, process, f"billy {args[0]} listening")
    return process, int(port_file.read_text())


@dataclasses.dataclass(frozen=True)
class LiveServer:
    url: str
    log: Path  # the server's output, with an access log line (and pid) per request


@pytest.fixture(scope="session")
def live_billy(django_db_setup, balance_emulator, cards_emulator, tmp_path_factory):
    """`billy serve` with 2 processes on the test database, Balance and the card system pointing at
    their emulators."""
    directory = tmp_path_factory.mktemp("live")
    log = directory / "serve.log"
    with log.open("w") as output:
        process, port = billy_server(
            "serve",
            "--workers",
            "2",
            "--threads",
            "8",
            "--access-log",
            env={
                "BALANCE_URL": balance_emulator.url,
                "BALANCE_TIMEOUT": str(TEST_BALANCE_TIMEOUT),
                "CARDS_URL": cards_emulator.base_url,
                "CARDS_TIMEOUT": str(CARDS_TIMEOUT),
                "BILLY_LOG_LEVEL": "WARNING",
            },
            stdout=output,
            stderr=subprocess.STDOUT,
            port_file=directory / "serve.port",
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health", process)
        yield LiveServer(url=base, log=log)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def grpc_channel(django_db_setup, balance_emulator, cards_emulator, tmp_path_factory):
    """A channel to `billy grpc` on the test database."""
    process, port = billy_server(
        "grpc",
        env={
            "BALANCE_URL": balance_emulator.url,
            "BALANCE_TIMEOUT": str(TEST_BALANCE_TIMEOUT),
            "CARDS_URL": cards_emulator.base_url,
            "CARDS_TIMEOUT": str(CARDS_TIMEOUT),
        },
        port_file=tmp_path_factory.mktemp("grpc") / "grpc.port",
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT)
        yield channel
    finally:
        channel.close()
        process.terminate()
        process.wait(timeout=30)


def read_feed_until(workspace_id: int, *, after: str | None, count: int, timeout: float = 120):
    """At least `count` events after the cursor, and the cursor after them (or what came in time).

    The feed hands out an event once every older transaction of the cluster has ended, other
    databases' and billy's background jobs' included: an event committed a moment ago may still be
    held back by someone else's transaction, so a reader that wants it polls."""
    from billy.events.queries import read_feed

    events, deadline = [], time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        page = read_feed(workspace_id=workspace_id, after=after, limit=100)
        events += page.events
        after = page.next_cursor
        if not page.events:
            time.sleep(0.01)
    return events, after
