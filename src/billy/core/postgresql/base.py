"""Django's PostgreSQL backend, its kept connections checked without a statement.

With BILLY_DB_HEALTH_CHECKS, Django checks a kept connection before a request first uses it. Its
check is `SELECT 1`: a round trip per request, a third of a charge's. An idle connection has
nothing to read, so the check here asks the socket instead: anything to read on it is the server
saying goodbye (a restart or a terminated backend sends an error and closes it), and the
connection is replaced, as Django does when `SELECT 1` fails. A connection in a transaction, or one
psycopg already knows is closed or broken, is checked as Django checks it.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql.base import DatabaseWrapper as PostgresDatabaseWrapper
from psycopg import pq


class DatabaseWrapper(PostgresDatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return super().is_usable()
        try:
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False
