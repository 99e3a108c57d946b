"""The database cache's `incr` counts every increment, however many processes race on one key."""

from __future__ import annotations

import threading

from django.core.cache import caches
from django.db import connection

THREADS = 6
EACH = 30


def test_concurrent_increments_of_one_key_are_all_counted(transactional_db):
    cache = caches["rate_limit"]
    cache.clear()
    cache.add("hits", 0, 600)
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def hit() -> None:
        try:
            start.wait()
            for _ in range(EACH):
                cache.incr("hits")
        except BaseException as e:  # reported by the test, not lost in the thread
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert cache.get("hits") == THREADS * EACH
    cache.clear()


def test_an_increment_keeps_the_keys_expiry(transactional_db):
    cache = caches["rate_limit"]
    cache.clear()
    cache.add("hits", 0, 3600)

    cache.incr("hits")

    with connection.cursor() as cursor:
        cursor.execute("SELECT expires - now() FROM rate_limit_cache")
        (left,) = cursor.fetchone()
    assert left.total_seconds() > 3000  # Django's own incr would reset it to the default 300 s
    cache.clear()
