"""Advisory locks: a session lock lasts across commits until its block ends, a try-lock does not wait,
a transaction lock ends with the transaction; another session sees each of them."""

import threading

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from billy.core.locks import NoTransaction, session_lock, transaction_lock, try_session_lock
from tests.conftest import wait_for

NAMESPACE = 0x74657374  # "test"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def other_session():
    session = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    yield session
    session.close()


def taken_by(session, key: int | str) -> bool:
    """Whether `session` can take the lock now (it gives it back at once)."""
    key_sql = "hashtext(%s)" if isinstance(key, str) else "%s"
    (taken,) = session.execute(f"SELECT pg_try_advisory_lock(%s, {key_sql})", [NAMESPACE, key]).fetchone()
    if taken:
        session.execute(f"SELECT pg_advisory_unlock(%s, {key_sql})", [NAMESPACE, key])
    return taken


def test_a_session_lock_is_held_across_commits_until_its_block_ends(other_session):
    with session_lock(NAMESPACE, "client data"):
        with transaction.atomic():
            connection.cursor().execute("SELECT 1")
        assert not taken_by(other_session, "client data")
        assert taken_by(other_session, "other data")

    assert taken_by(other_session, "client data")


def test_a_session_lock_waits_for_the_session_that_holds_it(other_session):
    other_session.execute("SELECT pg_advisory_lock(%s, %s)", [NAMESPACE, 7])
    entered = threading.Event()

    def take():
        try:
            with session_lock(NAMESPACE, 7):
                entered.set()
        finally:
            connection.close()

    thread = threading.Thread(target=take)
    thread.start()
    wait_for(
        lambda: other_session.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = 7"
        ).fetchone()[0]
    )
    assert not entered.is_set()

    other_session.execute("SELECT pg_advisory_unlock(%s, %s)", [NAMESPACE, 7])
    thread.join(timeout=60)

    assert entered.is_set()


def test_an_integer_key_past_32_bits_names_a_lock_too(other_session):
    key = 2**40 + 5

    with session_lock(NAMESPACE, key):
        assert not taken_by(other_session, key % 2_147_483_647)

    assert taken_by(other_session, key % 2_147_483_647)


def test_a_lock_whose_release_fails_is_freed_with_its_connection(other_session):
    with pytest.raises(DatabaseError), transaction.atomic(), session_lock(NAMESPACE, "aborted"):
        connection.cursor().execute("SELECT 1 / 0")  # the transaction is aborted: unlocking fails

    # The server frees the lock when the closed session's backend has exited, a moment later.
    assert wait_for(lambda: taken_by(other_session, "aborted"))


def test_a_try_lock_does_not_wait_while_another_session_holds_it_and_is_had_once_that_session_dies(other_session):
    other_session.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [NAMESPACE, "janitor"])

    with try_session_lock(NAMESPACE, "janitor") as taken:
        assert taken is False
    other_session.close()  # its process died: PostgreSQL frees the lock once its backend has exited

    def taken_now() -> bool:
        with try_session_lock(NAMESPACE, "janitor") as taken:
            return taken

    assert wait_for(taken_now) is True


def test_a_try_lock_taken_is_held_for_its_block_and_released_after(other_session):
    with try_session_lock(NAMESPACE, "janitor") as taken:
        assert taken is True
        assert not taken_by(other_session, "janitor")

    assert taken_by(other_session, "janitor")


def test_a_try_lock_that_was_not_taken_leaves_the_holders_lock_alone(other_session):
    other_session.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [NAMESPACE, "janitor"])

    with try_session_lock(NAMESPACE, "janitor"):
        pass

    (holders,) = other_session.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()"
    ).fetchone()
    assert holders == 1


def test_a_transaction_lock_lasts_until_the_transaction_ends(other_session):
    with transaction.atomic():
        transaction_lock(NAMESPACE, "subscribe:1:2:user")
        assert not taken_by(other_session, "subscribe:1:2:user")

    assert taken_by(other_session, "subscribe:1:2:user")


def test_a_transaction_lock_is_released_by_a_rollback(other_session):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        transaction_lock(NAMESPACE, "subscribe:1:2:user")
        1 / 0  # noqa: B018

    assert taken_by(other_session, "subscribe:1:2:user")


def test_a_transaction_lock_outside_a_transaction_is_refused():
    with pytest.raises(NoTransaction):
        transaction_lock(NAMESPACE, "subscribe:1:2:user")
