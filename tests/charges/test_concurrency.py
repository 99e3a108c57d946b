"""Concurrency against a real multi-process server and real PostgreSQL transactions."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg

from billy.charges.models import Charge
from billy.events.queries import read_feed
from billy.ledger.models import Account
from billy.workspaces.models import Workspace
from tests.charges.conftest import fund
from tests.conftest import database_url_for_children, read_feed_until


def test_64_threads_on_one_wallet_spend_exactly_the_money_there_was(live_billy, client_a, service_key):
    fund(client_a, 1_000_00)  # room for 40 of 64 charges of 25.00
    url = f"{live_billy.url}/api/v1/workspaces/c2b/clients/client-1/charges"

    def charge(i):
        body = {"charge_id": f"hot-{i}", "product": "p", "amount": "25.00"}
        response = httpx.post(url, json=body, headers={"Authorization": f"Bearer {service_key}"}, timeout=60)
        return response.status_code, body["amount"]

    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(charge, range(64)))

    statuses = [status for status, _ in results]
    assert set(statuses) <= {201, 422}
    assert statuses.count(201) == 40
    wallet = Account.objects.get(client=client_a)
    assert (wallet.balance, wallet.held) == (0, 0)
    assert Charge.objects.count() == 40


def test_64_identical_requests_make_one_charge(live_billy, client_a, service_key):
    fund(client_a, 1_000_00)
    url = f"{live_billy.url}/api/v1/workspaces/c2b/clients/client-1/charges"
    body = {"charge_id": "same", "product": "p", "amount": "25.00"}

    def charge(_):
        return httpx.post(url, json=body, headers={"Authorization": f"Bearer {service_key}"}, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=64) as pool:
        statuses = list(pool.map(charge, range(64)))

    assert sorted(set(statuses)) == [200, 201]
    assert statuses.count(201) == 1
    assert Charge.objects.count() == 1
    assert Account.objects.get(client=client_a).balance == 975_00


def test_feed_misses_nothing_when_commits_land_out_of_id_order(client_a):
    """A writer takes an event id and blocks; a later writer commits first; the reader must wait."""
    fund(client_a, 100_00)
    workspace = Workspace.objects.get(name="c2b")
    _, start = read_feed_until(workspace.pk, after=None, count=1)
    url = database_url_for_children()
    insert = "INSERT INTO event (workspace_id, type, data, created_at) VALUES (%s, %s, '{}'::jsonb, now()) RETURNING id"
    slow = psycopg.connect(url)
    fast = psycopg.connect(url, autocommit=True)
    try:
        slow_id = slow.execute(insert, [workspace.pk, "slow"]).fetchone()[0]  # takes its id, stays open
        fast_id = fast.execute(insert, [workspace.pk, "fast"]).fetchone()[0]  # commits at once
        assert fast_id > slow_id

        while_blocked = read_feed(workspace_id=workspace.pk, after=start, limit=100)
        assert while_blocked.events == []  # "fast" is held back: handing it out could skip "slow"

        slow.commit()
        seen, after = read_feed_until(workspace.pk, after=while_blocked.next_cursor, count=2)
        assert sorted(e.type for e in seen) == ["fast", "slow"]
        assert read_feed(workspace_id=workspace.pk, after=after, limit=100).events == []
    finally:
        slow.close()
        fast.close()


def test_feed_read_concurrently_with_many_writers_sees_each_event_once(live_billy, client_a, service_key):
    fund(client_a, 10_000_00)
    workspace = Workspace.objects.get(name="c2b")
    url = f"{live_billy.url}/api/v1/workspaces/c2b/clients/client-1/charges"
    seen: list[int] = []
    _, cursor = read_feed_until(workspace.pk, after=None, count=1)  # after the funding's event
    done = threading.Event()

    def write(i):
        httpx.post(
            url,
            json={"charge_id": f"w-{i}", "product": "p", "amount": "1.00"},
            headers={"Authorization": f"Bearer {service_key}"},
            timeout=60,
        )

    def writers():
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(write, range(200)))
        done.set()

    thread = threading.Thread(target=writers)
    thread.start()
    # "The writers are done and a page is empty" does not mean "all delivered" (see read_feed_until):
    # read until the writers are done and 200 events came, or the time is up; then one more page.
    deadline = time.monotonic() + 120
    while not (done.is_set() and len(seen) >= 200) and time.monotonic() < deadline:
        page = read_feed(workspace_id=workspace.pk, after=cursor, limit=50)
        seen.extend(e.id for e in page.events)
        cursor = page.next_cursor
        if not page.events:
            time.sleep(0.01)
    thread.join()
    seen.extend(e.id for e in read_feed(workspace_id=workspace.pk, after=cursor, limit=50).events)

    assert len(seen) == len(set(seen)) == 200
