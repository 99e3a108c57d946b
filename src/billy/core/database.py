"""When the database does not answer: which failures that is, and the error every transport gives.

Only connection-level failures count: a connection refused or lost, a server shutting down or
starting up, no connection to be had from a pool. Any other database error (a constraint, a
serialization failure, a statement timeout) is not an outage and stays what it was. Retrying is
the caller's part: the request changed nothing, since the transaction it was in is gone.
"""

from __future__ import annotations

import psycopg
from django.conf import settings
from django.db import InterfaceError as DjangoInterfaceError

from billy.core.errors import BillyError

# SQLSTATEs of a server that cannot serve: class 08 (connection exception), shutting down (admin or
# crash), starting up, and too many connections.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


class DatabaseUnavailable(BillyError):
    code = "unavailable"
    default_message = "The database is unavailable; retry after Retry-After seconds."


def is_connection_failure(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from (Django and Procrastinate wrap psycopg's),
    says the database could not be reached or the connection to it was lost."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (psycopg.InterfaceError, DjangoInterfaceError)):
            return True
        if isinstance(error, psycopg.OperationalError):
            # No SQLSTATE: the client's own failure (refused, closed unexpectedly, pool timeout).
            state = error.sqlstate
            return state is None or state.startswith("08") or state in _UNAVAILABLE_SQLSTATES
        error = error.__cause__ or error.__context__
    return False


def database_unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """The error to answer with when `exc` is a connection-level failure, else None."""
    if not is_connection_failure(exc):
        return None
    return DatabaseUnavailable(retry_after=settings.BILLY_RETRY_AFTER_SECONDS)
