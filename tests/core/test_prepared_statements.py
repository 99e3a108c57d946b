"""The money path's prepared statements (billy.core.postgresql.prepared_cursor)."""

import pytest
from django.db import IntegrityError, connection

from billy.core.postgresql import prepared_cursor


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
