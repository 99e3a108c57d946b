"""Django's PostgreSQL backend, its kept connections checked without a statement.

With BILLY_DB_HEALTH_CHECKS, Django checks a kept connection before a request first uses it. Its
check is `SELECT 1`: a round trip per request, a third of a charge's. An idle connection has
nothing to read, so the check here asks the socket instead: anything to read on it is the server
saying goodbye (a restart or a terminated backend sends an error and closes it), and the
connection is replaced, as Django does when `SELECT 1` fails. A connection in a transaction, or one
psycopg already knows is closed or broken, is checked as Django checks it.

Prepared statements. Django binds parameters on the client (every value quoted into the SQL text),
so PostgreSQL parses and plans each statement anew: for a charge's one data-modifying statement that
is most of PostgreSQL's work, and quoting its values is a tenth of billy's. `prepared_cursor` gives
a cursor that sends the values apart and has PostgreSQL keep the statement prepared on the
connection (psycopg's prepared-statement cache, `prepare_threshold` 0: from the first execution).
Only the money path's statements use it; everything else keeps Django's cursor.
BILLY_DB_PREPARED=false turns it off (a connection pooler in transaction mode cannot keep a
session's prepared statements): the same cursor then binds on the server without preparing.

A statement whose first, preparing execution fails (a charge_id taken, a wallet short of money)
stays prepared on the server while psycopg forgets its name and prepares it anew next time: each
failure would leave a prepared plan behind until the connection closes. `_PrepareManager` has
psycopg deallocate it with the connection's next statement.

Timestamps. Django loads every `timestamptz` value with a loader of its own written in Python
(psycopg's Python parser, then the time zone set on the result): a twentieth of a charge's CPU,
for the client's and the wallet's timestamps. `_TimestamptzLoader` hands the value to psycopg's
own loader (C, when psycopg's binary build is installed), which reads it in the connection's time
zone; Django keeps that time zone equal to its own (UTC), so the result is the same datetime.
"""

from __future__ import annotations

import datetime as dt
import functools
import select

import psycopg
from django.conf import settings
from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresDatabaseWrapper
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg import adapt, pq
from psycopg._preparing import Prepare, PrepareManager
from psycopg.pq import Format


class _PrepareManager(PrepareManager):
    """psycopg's prepared-statement cache, which also deallocates a statement whose preparing
    execution failed (psycopg drops it from the cache and leaves it on the server)."""

    def validate(self, key, prep, name, results) -> None:
        super().validate(key, prep, name, results)
        if prep is Prepare.SHOULD and key not in self._names and None not in self._to_flush:
            self._to_flush.append(name)  # sent before the connection's next statement


class _TimestamptzLoader(adapt.Loader):
    """A `timestamptz` read by psycopg's own loader (see the module). `timezone` is the zone Django
    expects on its values, as on Django's loader (its cursors compare it with their own)."""

    timezone: dt.tzinfo | None = None
    _psycopg_loader = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT)

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._load = self._psycopg_loader(oid, context).load

    def load(self, data):
        return self._load(data)


@functools.cache
def _adapters(template: adapt.AdaptersMap, timezone: dt.tzinfo) -> adapt.AdaptersMap:
    """Django's adapters for a new connection, with timestamps read by `_TimestamptzLoader`."""
    adapters = adapt.AdaptersMap(template)
    adapters.register_loader("timestamptz", type("TimestamptzLoader", (_TimestamptzLoader,), {"timezone": timezone}))
    return adapters


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

    def get_connection_params(self):
        params = super().get_connection_params()
        # Only `prepared_cursor`'s statements are prepared (Django's own cursor binds on the client
        # and never prepares); 0: from a statement's first execution on the connection.
        params["prepare_threshold"] = 0 if settings.BILLY_DB_PREPARED else None
        if settings.USE_TZ and self.timezone == dt.UTC:  # the connection's time zone: see the module
            params["context"] = _adapters(params["context"], self.timezone)
        return params

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        manager = _PrepareManager()
        manager.prepare_threshold = connection.prepare_threshold
        manager.prepared_max = connection.prepared_max
        connection._prepared = manager
        return connection

    def prepared_cursor(self):
        """`cursor()`, but with server-side binding (see the module)."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = ServerBindingCursor(self.connection)
            tzloader = self.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
            if self.timezone != tzloader.timezone:  # as Django's create_cursor
                register_tzloader(self.timezone, cursor)
            return self._prepare_cursor(cursor)
