"""A database that does not answer is `503` + Retry-After over HTTP and UNAVAILABLE over gRPC, never a 500;
only connection-level failures count; and a connection the database dropped does not fail the next request."""

import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import httpx
import psycopg
import pytest
from django.db import connection

from billy.core.database import is_connection_failure
from billy.v1 import clients_pb2, clients_pb2_grpc
from tests.conftest import START_TIMEOUT, billy_server, database_url_for_children, make_api_key, wait_http


@pytest.fixture
def refused_database(refused_port) -> dict[str, str]:
    """The environment of a billy process whose database refuses every connection."""
    return {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{refused_port}/billy", "BILLY_RETRY_AFTER_SECONDS": "7"}


def test_http_answers_503_with_retry_after_in_the_envelope(refused_database, tmp_path):
    process, port = billy_server(
        "serve", "--workers", "1", "--threads", "2", env=refused_database, port_file=tmp_path / "port"
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health", process)
        api = httpx.get(base + "/api/v1/workspaces/c2b/clients/client-1", headers={"Authorization": "Bearer k"})
        ready = httpx.get(base + "/ready")
        # A session cookie makes the admin read its session from the database.
        admin = httpx.get(base + "/admin/", cookies={"sessionid": "a" * 32})
    finally:
        process.terminate()
        process.wait(timeout=30)

    for response in (api, ready, admin):
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "7"
        assert response.json()["error"]["code"] == "unavailable"


def test_grpc_answers_unavailable_with_retry_after(refused_database, tmp_path):
    process, port = billy_server("grpc", env=refused_database, port_file=tmp_path / "port")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT)
            with pytest.raises(grpc.RpcError) as error:
                clients_pb2_grpc.ClientServiceStub(channel).GetClient(
                    clients_pb2.GetClientRequest(workspace="c2b", service_client_id="client-1"),
                    metadata=[("authorization", "Bearer k")],
                    timeout=30,
                )
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    trailers = dict(error.value.trailing_metadata())
    assert (trailers["billy-error-code"], trailers["retry-after"]) == ("unavailable", "7")


def _error_of(statement: str, url: str) -> psycopg.Error:
    with psycopg.connect(url, autocommit=True) as conn, pytest.raises(psycopg.Error) as error:
        conn.execute(statement)
    return error.value


def test_only_connection_level_failures_count(refused_port, django_db_blocker):
    with django_db_blocker.unblock():
        url = database_url_for_children()
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{refused_port}/billy", connect_timeout=5)
    terminated = _error_of("SELECT pg_terminate_backend(pg_backend_pid())", url)
    canceled = _error_of("SET statement_timeout = 1; SELECT pg_sleep(1)", url)
    division = _error_of("SELECT 1 / 0", url)

    assert is_connection_failure(refused.value)
    assert is_connection_failure(terminated)  # as a restart does to every connection (57P01)
    assert isinstance(canceled, psycopg.OperationalError)
    assert not is_connection_failure(canceled)
    assert not is_connection_failure(division)


def test_connections_the_database_dropped_do_not_fail_the_next_requests(live_billy, workspace):
    headers = {"Authorization": f"Bearer {make_api_key('c2b')}"}
    url = live_billy.url + "/api/v1/workspaces/c2b/clients/nobody"

    def ask_many() -> list[int]:
        # More requests at once than the server has threads: every thread keeps a connection.
        with ThreadPoolExecutor(max_workers=24) as pool:
            return list(pool.map(lambda _: httpx.get(url, headers=headers, timeout=30).status_code, range(48)))

    assert set(ask_many()) == {404}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        terminated = [pid for (pid,) in cursor.fetchall()]
        assert terminated
        cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [terminated])
        # A terminated backend says goodbye on its socket before it leaves pg_stat_activity; until
        # then its connection looks alive to anyone (to `SELECT 1` as well).
        deadline = time.monotonic() + 60
        while True:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [terminated])
            if cursor.fetchone()[0] == 0:
                break
            assert time.monotonic() < deadline, "the terminated backends did not end"
            time.sleep(0.01)

    assert set(ask_many()) == {404}
