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


def _row_version(key: str) -> str:
    made_key = caches["rate_limit"].make_and_validate_key(key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text, ctid::text FROM rate_limit_cache WHERE cache_key = %s", [made_key])
        return cursor.fetchone()


def test_adding_a_live_key_writes_nothing_and_an_expired_one_is_replaced(transactional_db):
    cache = caches["rate_limit"]
    cache.clear()
    assert cache.add("hits", 0, 600) is True
    cache.incr("hits")
    before = _row_version("hits")

    assert cache.add("hits", 0, 600) is False  # a refused request of a flood: no write, no error

    assert _row_version("hits") == before
    assert cache.get("hits") == 1
    with connection.cursor() as cursor:
        cursor.execute("UPDATE rate_limit_cache SET expires = now() - interval '1 second'")
    assert cache.add("hits", 0, 600) is True
    assert cache.get("hits") == 0
    cache.clear()


def test_culling_drops_only_expired_rows_never_a_live_counter(transactional_db, settings):
    cache = caches["rate_limit"]
    cache.clear()
    many = cache._max_entries + 50
    for n in range(many):
        cache.add(f"source-{n}", n, 600)
    cache.add("old", 0, 600)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE rate_limit_cache SET expires = now() - interval '1 second' WHERE cache_key = %s",
            [cache.make_and_validate_key("old")],
        )

    cache.set("one-more", 0, 600)  # past MAX_ENTRIES: Django's cull would drop a third of the rows

    assert [cache.get(f"source-{n}") for n in range(many)] == list(range(many))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM rate_limit_cache")
        assert cursor.fetchone()[0] == many + 1  # the expired row is gone
    cache.clear()
