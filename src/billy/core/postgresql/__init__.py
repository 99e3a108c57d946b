"""billy's PostgreSQL backend for Django (`ENGINE = "billy.core.postgresql"`): Django's own, with a
health check that costs no round trip (see `base.DatabaseWrapper.is_usable`) and prepared
statements for the money path (`prepared_cursor`)."""

from __future__ import annotations

from django.db import connection


def prepared_cursor():
    """A cursor whose statements PostgreSQL binds and keeps prepared on the connection, for the few
    statements every charge sends (see `base.DatabaseWrapper.prepared_cursor`). Used like
    `connection.cursor()`; parameters are typed by their Python values, so a parameter PostgreSQL
    cannot place (a NULL, a value in a select list) needs a cast in the SQL."""
    return connection.prepared_cursor()
