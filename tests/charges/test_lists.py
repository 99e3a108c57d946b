"""Workspace-wide lists of charges and clients: filters, cursors, and plans that stay on an index."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billy.charges import queries as charge_queries
from billy.charges.models import Charge
from billy.clients import queries as client_queries
from billy.clients.models import Client
from billy.core.pagination import encode_created_cursor
from billy.ledger.postings import get_or_create_wallets
from tests.charges.conftest import fund, make_client
from tests.conftest import NOW


def charge(api, charge_id, client="client-1", **fields):
    body = {"charge_id": charge_id, "product": "p", "amount": "1.00", **fields}
    answer = api.post(f"/clients/{client}/charges", body)
    assert answer.status_code == 201, answer.content
    return answer.json()


@pytest.fixture
def two_clients(workspace):
    first, second = make_client(workspace, "client-1"), make_client(workspace, "client-2")
    fund(first, 100_00)
    fund(second, 100_00)
    return first, second


def test_the_workspace_list_has_every_clients_charges_newest_first_in_pages(api, two_clients):
    for i in range(5):
        charge(api, f"c-{i}", client=f"client-{i % 2 + 1}")

    first = api.get("/charges?limit=2").json()
    second = api.get(f"/charges?limit=2&cursor={first['next_cursor']}").json()
    third = api.get(f"/charges?limit=2&cursor={second['next_cursor']}").json()

    pages = [[c["charge_id"] for c in page["charges"]] for page in (first, second, third)]
    assert pages == [["c-4", "c-3"], ["c-2", "c-1"], ["c-0"]]
    assert third["next_cursor"] is None


def test_the_workspace_list_filters_combine(api, two_clients):
    charge(api, "a-1", product="a")
    charge(api, "b-1", product="b", client="client-2")
    charge(api, "a-2", product="a", client="client-2", hold=True)
    charge(api, "a-3", product="a", client="client-2")

    def ids(query):
        answer = api.get(f"/charges?{query}")
        assert answer.status_code == 200, answer.content
        return [c["charge_id"] for c in answer.json()["charges"]]

    assert ids("product=a") == ["a-3", "a-2", "a-1"]
    assert ids("client=client-2") == ["a-3", "a-2", "b-1"]
    assert ids("status=HELD") == ["a-2"]
    assert ids("product=a&client=client-2&status=COMPLETED") == ["a-3"]
    assert ids("client=nobody") == []


def test_the_time_filters_are_half_open(api, two_clients):
    created = [charge(api, f"c-{i}")["created_at"] for i in range(3)]

    answer = api.get(f"/charges?created_from={created[1]}&created_to={created[2]}")
    older_names = api.get(f"/clients/client-1/charges?from={created[1]}&to={created[2]}")

    assert [c["charge_id"] for c in answer.json()["charges"]] == ["c-1"]
    assert [c["charge_id"] for c in older_names.json()["charges"]] == ["c-1"]


@pytest.mark.parametrize("path", ["/charges", "/clients"])
def test_a_cursor_of_another_list_is_422(api, two_clients, path):
    foreign = encode_created_cursor("subscription", NOW, 1)

    answer = api.get(f"{path}?cursor={foreign}")

    assert (answer.status_code, answer.json()["error"]["details"]["fields"]) == (
        422,
        {"cursor": ["Not a cursor this list handed out."]},
    )


def test_the_clients_list_filters_by_status_and_time_and_pages(api, workspace):
    for i in range(3):
        Client.objects.create(
            workspace=workspace,
            service_client_id=f"client-{i}",
            name="ООО Ромашка",
            email="info@romashka.ru",
            phone="+74951234567",
            status=Client.Status.PENDING if i == 1 else Client.Status.ACTIVE,
            balance_client_id=None if i == 1 else 100 + i,
            created_at=NOW + dt.timedelta(minutes=i),
            updated_at=NOW,
        )

    first = api.get("/clients?limit=2").json()
    rest = api.get(f"/clients?limit=2&cursor={first['next_cursor']}").json()
    pending = api.get("/clients?status=PENDING").json()
    window = api.get("/clients?created_from=2026-11-23T12:01:00Z&created_to=2026-11-23T12:02:00.000000Z").json()

    assert [c["service_client_id"] for c in first["clients"] + rest["clients"]] == ["client-2", "client-1", "client-0"]
    assert rest["next_cursor"] is None
    assert [c["service_client_id"] for c in pending["clients"]] == ["client-1"]
    assert [c["service_client_id"] for c in window["clients"]] == ["client-1"]


# -- plans on a large table ----------------------------------------------------------------------

ROWS = 40_000


@pytest.fixture
def large_tables(workspace):
    """ROWS charges over 200 clients and 20 products, and ROWS clients, written by SQL (these are
    not money movements: held and cancelled charges post nothing), then analysed."""
    clients = [make_client(workspace, f"client-{i}") for i in range(200)]
    wallets = get_or_create_wallets(workspace=workspace, client_ids=[c.pk for c in clients], now=NOW)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO charge (workspace_id, charge_id, client_id, wallet_id, product, amount, currency, hold, status,
                                captured, refunded, description, metadata, hold_expires_at, cancel_reason,
                                request, created_at, updated_at)
            SELECT %(ws)s, 'bulk-' || g, (%(clients)s::bigint[])[g %% 200 + 1], (%(wallets)s::bigint[])[g %% 200 + 1],
                   'product-' || (g %% 20), 100, 'RUB', true,
                   CASE WHEN g %% 10 = 0 THEN 'HELD' ELSE 'CANCELLED' END, 0, 0, '', '{}',
                   %(now)s + interval '7 days', CASE WHEN g %% 10 = 0 THEN '' ELSE 'REQUESTED' END, '{}',
                   %(now)s - g * interval '1 second', %(now)s
              FROM generate_series(1, %(rows)s) AS g;
            INSERT INTO client (workspace_id, service_client_id, name, email, phone, status, attention_reason,
                                created_at, updated_at)
            SELECT %(ws)s, 'bulk-' || g, 'n', 'e@x.ru', '+74951234567', 'PENDING', '',
                   %(now)s - g * interval '1 second', %(now)s
              FROM generate_series(1, %(rows)s) AS g;
            ANALYZE charge;
            ANALYZE client;
            """,
            {
                "ws": workspace.pk,
                "clients": [c.pk for c in clients],
                "wallets": [wallets[c.pk][0] for c in clients],
                "now": NOW,
                "rows": ROWS,
            },
        )
    return clients


def plan_of(run, table: str) -> dict:
    """The plan PostgreSQL picks for the list's query on `table` (the query as it was sent)."""
    with CaptureQueriesContext(connection) as captured:
        run()
    sql = next(q["sql"] for q in captured.captured_queries if f'FROM "{table}"' in q["sql"] and "ORDER BY" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        document = cursor.fetchone()[0]
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


def nodes(plan: dict) -> list[dict]:
    return [plan, *(n for child in plan.get("Plans", []) for n in nodes(child))]


def assert_read_in_order_from_an_index(plan: dict, table: str) -> str:
    scans = [n for n in nodes(plan) if n.get("Relation Name") == table]
    assert [n["Node Type"] for n in scans] == ["Index Scan"], scans
    assert not [n for n in nodes(plan) if n["Node Type"] in ("Sort", "Incremental Sort")]
    return scans[0]["Index Name"]


LATER = NOW - dt.timedelta(seconds=ROWS // 2)


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, "charge_ws_created_idx"),
        ({"status": "HELD"}, "charge_ws_status_created_idx"),
        ({"product": "product-7"}, "charge_ws_product_created_idx"),
        ({"service_client_id": "client-7"}, "charge_client_created_idx"),
        ({"created_from": LATER - dt.timedelta(hours=1), "created_to": LATER}, "charge_ws_created_idx"),
        ({"cursor": encode_created_cursor("charge", LATER, 10**9)}, "charge_ws_created_idx"),
    ],
    ids=["none", "status", "product", "client", "time", "cursor"],
)
def test_each_charge_filter_reads_its_index_in_order(large_tables, filters, index):
    workspace = large_tables[0].workspace
    plan = plan_of(lambda: charge_queries.list_charges(workspace=workspace, limit=50, **filters), "charge")

    assert assert_read_in_order_from_an_index(plan, "charge") == index


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, "client_ws_created_idx"),
        ({"status": "ACTIVE"}, "client_ws_status_created_idx"),
        ({"created_from": LATER - dt.timedelta(hours=1), "created_to": LATER}, "client_ws_created_idx"),
    ],
    ids=["none", "status", "time"],
)
def test_each_client_filter_reads_its_index_in_order(large_tables, filters, index):
    workspace = large_tables[0].workspace
    plan = plan_of(lambda: client_queries.list_clients(workspace=workspace, limit=50, **filters), "client")

    assert assert_read_in_order_from_an_index(plan, "client") == index


def test_a_listed_charge_reads_its_refunds_without_a_query_each(api, two_clients):
    for i in range(3):
        charge(api, f"c-{i}")
        api.post(f"/charges/c-{i}/refunds", {"refund_id": f"r-{i}"})

    with CaptureQueriesContext(connection) as captured:
        charges, _ = charge_queries.list_charges(workspace=two_clients[0].workspace, limit=50)
        refunds = [[r.refund_id for r in c.refunds.all()] for c in charges]

    assert refunds == [["r-2"], ["r-1"], ["r-0"]]
    assert len([q for q in captured.captured_queries if '"refund"' in q["sql"]]) == 1
    assert Charge.objects.count() == 3
