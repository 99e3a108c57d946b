"""Django's database cache with an atomic `incr`, for counters shared by every process (rate limits).

Django's `incr` reads, then writes: concurrent increments of one key get lost (a flood of 1,200
requests from six threads counted about half of them). Here the row is locked first, so increments
of one key queue up and each one counts; the key also keeps its expiry (Django's resets it).
"""

from __future__ import annotations

import datetime as dt

from django.core.cache.backends import db
from django.db import connections, router, transaction


class DatabaseCache(db.DatabaseCache):
    def incr(self, key, delta=1, version=None):
        made_key = self.make_and_validate_key(key, version=version)
        alias = router.db_for_write(self.cache_model_class)
        connection = connections[alias]
        table = connection.ops.quote_name(self._table)
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
