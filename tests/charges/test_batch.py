"""charges:batch: each item behaves like the single call, in a fixed number of queries."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from billy.charges.models import Charge
from billy.ledger.models import Account
from tests.charges.conftest import fund, make_client

BATCH = "/charges:batch"


def item(client="client-1", charge_id="b-1", amount="10.00", **extra):
    return {"service_client_id": client, "charge_id": charge_id, "product": "p", "amount": amount, **extra}


def test_items_behave_like_single_calls(api, workspace, client_a):
    bob = make_client(workspace, "bob")
    fund(client_a, 25_00)
    fund(bob, 5_00)
    api.post("/clients/client-1/charges", {"charge_id": "old", "product": "p", "amount": "1.00"})

    response = api.post(
        BATCH,
        {
            "charges": [
                item(charge_id="a1"),  # 201
                item(charge_id="a2", hold=True),  # 201, held
                item(charge_id="a3"),  # insufficient: 24 - 10 - 10 = 4 left
                item(charge_id="old", amount="1.00"),  # repeat of an existing charge: 200
                item(charge_id="old", amount="2.00"),  # same id, other body: 409
                item(client="bob", charge_id="b1", amount="5.00"),  # 201
                item(client="nobody", charge_id="n1"),  # 404
                item(charge_id="bad", amount="0.00"),  # 422 validation
                item(charge_id="cur", currency="USD"),  # 422 currency
                item(charge_id="a1"),  # repeat of an item of this batch: 200
                item(charge_id="x", amount="1.234"),  # 422 amount format
            ]
        },
    )

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 201, 422, 200, 409, 201, 404, 422, 422, 200, 422]
    assert [r["error"]["code"] for r in results if r["error"]] == [
        "insufficient_funds",
        "idempotency_conflict",
        "client_not_found",
        "validation_failed",
        "currency_mismatch",
        "validation_failed",
    ]
    assert results[1]["charge"]["status"] == "HELD"
    wallet = Account.objects.get(client=client_a)
    assert (wallet.balance, wallet.held, wallet.net_consumption) == (14_00, 10_00, 11_00)
    assert Account.objects.get(client=bob).balance == 0
    assert set(Charge.objects.values_list("charge_id", flat=True)) == {"old", "a1", "a2", "b1"}


def test_the_same_batch_again_changes_nothing(api, client_a):
    fund(client_a, 100_00)
    body = {"charges": [item(charge_id=f"r-{i}") for i in range(5)]}
    first = api.post(BATCH, body).json()["results"]

    again = api.post(BATCH, body).json()["results"]

    assert [r["status"] for r in first] == [201] * 5
    assert [r["status"] for r in again] == [200] * 5
    assert Account.objects.get(client=client_a).balance == 50_00


def test_a_thousand_items_take_a_fixed_number_of_queries(api, workspace, client_a):
    clients = [make_client(workspace, f"c-{i}") for i in range(20)]
    for c in clients:
        fund(c, 1_000_00)
    body = {"charges": [item(client=f"c-{i % 20}", charge_id=f"k-{i}", amount="1.00") for i in range(1000)]}

    with CaptureQueriesContext(connection) as queries:
        response = api.post(BATCH, body)

    assert [r["status"] for r in response.json()["results"]] == [201] * 1000
    assert len(queries) <= 20
    assert sum(Account.objects.filter(client__in=clients).values_list("balance", flat=True)) == 20 * 1_000_00 - 1000_00


def test_too_many_or_no_items_is_422(api, client_a):
    assert api.post(BATCH, {"charges": []}).status_code == 422
    assert api.post(BATCH, {"charges": [item(charge_id=f"t-{i}") for i in range(1001)]}).status_code == 422


def test_a_batch_of_only_unreadable_amounts_answers_each_item(api, client_a):
    response = api.post(BATCH, {"charges": [item(charge_id="x", amount="1.234"), item(charge_id="y", amount="1e3")]})

    assert response.status_code == 200
    assert [(r["charge_id"], r["status"], r["error"]["code"]) for r in response.json()["results"]] == [
        ("x", 422, "validation_failed"),
        ("y", 422, "validation_failed"),
    ]
    assert Charge.objects.count() == 0
