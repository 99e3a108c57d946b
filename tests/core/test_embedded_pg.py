"""The private PostgreSQL cluster: machine binaries and the pgserver wheel's, data kept, nothing outside."""

import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pgserver
import psycopg
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from billy.core.embedded_pg import EmbeddedPostgres, EmbeddedPostgresError, ensure_database

PGSERVER_BIN = Path(pgserver.__file__).parent / "pginstall" / "bin"


@pytest.fixture
def parent():
    # pytest's tmp dirs are 0700; under root the cluster's user must pass through the parent.
    path = Path(tempfile.mkdtemp(prefix="billy-cluster-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("bin_dir", [None, PGSERVER_BIN], ids=["machine", "pgserver"])
def test_cluster_starts_keeps_data_and_stops(parent, bin_dir):
    if bin_dir is None and not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        pytest.skip("no machine PostgreSQL")
    data_dir = parent / "data"
    parent_mode = parent.stat().st_mode
    cluster = EmbeddedPostgres(data_dir, bin_dir=bin_dir)
    try:
        port = cluster.start()
        url = cluster.url("billy", port)
        ensure_database(url)
        ensure_database(url)  # a second time is harmless
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (v int)")
            conn.execute("INSERT INTO kept VALUES (42)")
        assert cluster.start() == port  # already running: same server
        cluster.stop()
        assert cluster.running_port() is None

        port = cluster.start()
        with psycopg.connect(cluster.url("billy", port)) as conn:
            assert conn.execute("SELECT v FROM kept").fetchone() == (42,)
    finally:
        cluster.stop()
    assert parent.stat().st_mode == parent_mode
    assert sorted(p.name for p in parent.iterdir()) == ["data"]


def test_a_fast_shutdown_that_does_not_finish_in_time_becomes_an_immediate_one(parent):
    cluster = EmbeddedPostgres(parent / "data")
    try:
        port = cluster.start()
        url = cluster.url("billy", port)
        ensure_database(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (v int)")
            conn.execute("INSERT INTO kept VALUES (42)")

        cluster.stop(fast_timeout=0)  # pg_ctl gives up on the fast shutdown at once

        assert cluster.running_port() is None
        with psycopg.connect(cluster.url("billy", cluster.start())) as conn:
            assert conn.execute("SELECT v FROM kept").fetchone() == (42,)
    finally:
        cluster.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the cluster to another user")
def test_as_root_an_unreachable_data_dir_is_a_clear_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    with pytest.raises(EmbeddedPostgresError, match="cannot enter"):
        EmbeddedPostgres(locked / "data").start()
    assert locked.stat().st_mode & 0o777 == 0o700


def test_cluster_programs_run_while_grpc_threads_run_in_this_process(parent):
    """gRPC's fork handlers crashed initdb and pg_ctl forked while its threads ran; they are never forked."""
    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    grpc_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
    stub = health_pb2_grpc.HealthStub(channel)
    stop = threading.Event()
    calls = []

    def call_all_the_time():
        while not stop.is_set():
            calls.append(stub.Check(health_pb2.HealthCheckRequest(), timeout=30).status)

    caller = threading.Thread(target=call_all_the_time)
    caller.start()
    cluster = EmbeddedPostgres(parent / "data")
    try:
        port = cluster.start()  # initdb and pg_ctl start
        statuses = [cluster.running_port() for _ in range(150)]  # pg_ctl status, 150 times
    finally:
        cluster.stop()
        stop.set()
        caller.join()
        channel.close()
        server.stop(None)

    assert statuses == [port] * 150
    assert set(calls) == {health_pb2.HealthCheckResponse.SERVING}
