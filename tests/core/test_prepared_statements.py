"""The money path's prepared statements (billy.core.postgresql.prepared_cursor)."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection
from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
from psycopg import pq

from billy.core.postgresql import prepared_cursor
from billy.core.postgresql.base import _TimestamptzLoader


def _prepared_on_server() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_statement_is_prepared_once_and_reused():
    connection.close()
    for _ in range(5):
        with prepared_cursor() as cursor:
            cursor.execute("SELECT %s::bigint + 1", [41])
            assert cursor.fetchone() == (42,)
    assert _prepared_on_server() == 1


@pytest.mark.django_db(transaction=True)
def test_a_statement_whose_preparing_execution_fails_is_not_left_prepared_on_the_server():
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE once (id int PRIMARY KEY)")
        cursor.execute("INSERT INTO once VALUES (1)")
    for _ in range(20):  # each fails at its first, preparing, execution: psycopg forgets its name
        with pytest.raises(IntegrityError), prepared_cursor() as cursor:
            cursor.execute("INSERT INTO once VALUES (%s)", [1])
    with prepared_cursor() as cursor:
        cursor.execute("INSERT INTO once VALUES (%s)", [2])  # prepared and kept: the one left
    assert _prepared_on_server() == 1


TIMESTAMPS = [
    ("2026-12-03 09:35:01.123456+03", dt.datetime(2026, 12, 3, 6, 35, 1, 123456, tzinfo=dt.UTC)),
    ("2026-03-29 02:30:00 Europe/Berlin", dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)),  # a DST gap
    ("0001-01-01 00:00:00+00", dt.datetime(1, 1, 1, tzinfo=dt.UTC)),
    ("9999-12-31 23:59:59.999999+00", dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cursor_of", [connection.cursor, prepared_cursor], ids=["django", "prepared"])
def test_timestamps_are_read_by_psycopg_s_loader_as_utc_datetimes(cursor_of):
    connection.close()
    with cursor_of() as cursor:
        literals = ", ".join(f"'{text}'::timestamptz" for text, _ in TIMESTAMPS)
        cursor.execute(f"SELECT {literals}, %s::timestamptz, now()", [dt.datetime(2026, 1, 1, 15, tzinfo=dt.UTC)])
        *values, bound, now = cursor.fetchone()
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT)
    assert values == [expected for _, expected in TIMESTAMPS]
    assert bound == dt.datetime(2026, 1, 1, 15, tzinfo=dt.UTC)
    assert all(value.tzinfo is dt.UTC for value in [*values, bound, now])
    assert issubclass(loader, _TimestamptzLoader) and loader.timezone is dt.UTC
