"""PostgreSQL advisory locks on Django's connection: the one place billy takes them.

A lock is named by two 32-bit keys, as PostgreSQL's two-key form has them: `namespace`, a constant
of the module that takes the lock (four ASCII letters read as a number), and `key`, an integer (an id,
taken modulo 2**31 - 1) or a text that PostgreSQL's hashtext() turns into one. A hash collision only
makes two unrelated callers wait for each other; it never lets two holders in at once.

- `session_lock` waits for the lock and holds it until the block ends, across commits: for work that
  commits as it goes (write first, then call out). PostgreSQL frees it if the process dies.
- `try_session_lock` does not wait: it says whether this caller got the lock (a periodic run that
  stands down while the previous one is still at work).
- `transaction_lock` waits for the lock and holds it until the caller's transaction ends.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

_INT4_MAX = 2_147_483_647


def _key_sql(key: int | str) -> tuple[str, int | str]:
    if isinstance(key, str):
        return "hashtext(%s)", key
    return "%s", key % _INT4_MAX


@contextlib.contextmanager
def session_lock(namespace: int, key: int | str) -> Iterator[None]:
    """Hold the session advisory lock (`namespace`, `key`) for the block, waiting for it first."""
    key_sql, value = _key_sql(key)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_lock(%s, {key_sql})", [namespace, value])
    try:
        yield
    finally:
        _unlock(namespace, key_sql, value)


@contextlib.contextmanager
def try_session_lock(namespace: int, key: int | str) -> Iterator[bool]:
    """Take the session advisory lock (`namespace`, `key`) if no other session holds it; yields
    whether it was taken, and releases it at the end of the block if so."""
    key_sql, value = _key_sql(key)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_lock(%s, {key_sql})", [namespace, value])
        taken = cursor.fetchone()[0]
    try:
        yield taken
    finally:
        if taken:
            _unlock(namespace, key_sql, value)


class NoTransaction(RuntimeError):
    """A transaction lock was asked for outside a transaction, where it would be released at once."""


def transaction_lock(namespace: int, key: int | str) -> None:
    """Take the transaction advisory lock (`namespace`, `key`), waiting for it; PostgreSQL releases it
    when the caller's transaction commits or rolls back. Raises NoTransaction outside `atomic()`."""
    if not connection.in_atomic_block:
        raise NoTransaction("transaction_lock needs a transaction: call it inside transaction.atomic().")
    key_sql, value = _key_sql(key)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_xact_lock(%s, {key_sql})", [namespace, value])


def _unlock(namespace: int, key_sql: str, value: int | str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_unlock(%s, {key_sql})", [namespace, value])
    except DatabaseError:
        # The connection is gone (and the lock with it), or its transaction is aborted: closing the
        # session frees the lock either way. The error that brought us here, if any, is kept.
        logger.warning("releasing advisory lock %s/%r failed; closing the connection", namespace, value)
        with contextlib.suppress(DatabaseError):
            connection.close()
