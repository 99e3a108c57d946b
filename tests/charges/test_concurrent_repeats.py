"""Consumer-named resources created by 16 identical calls at once, over real sockets: one call
creates (201, or `created` over gRPC), every other answers 200 (`created` false) with that same
resource, and the money moves once."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from billy.charges.models import Charge, Refund
from billy.ledger.models import Account, Adjustment
from billy.v1 import money_pb2, money_pb2_grpc
from tests.charges.conftest import fund

pytestmark = pytest.mark.slow

CALLS = 16


def all_at_once(call) -> list:
    """`call()` from CALLS threads released together by a barrier."""
    barrier = threading.Barrier(CALLS)

    def one(_):
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(CALLS) as pool:
        return list(pool.map(one, range(CALLS)))


def test_one_refund_id_refunds_once(live_billy, client_a, service_key):
    fund(client_a, 100_00)
    base = f"{live_billy.url}/api/v1/workspaces/c2b"
    headers = {"Authorization": f"Bearer {service_key}"}
    charge = {"charge_id": "c-1", "product": "p", "amount": "30.00"}
    assert httpx.post(f"{base}/clients/client-1/charges", json=charge, headers=headers, timeout=30).status_code == 201
    body = {"refund_id": "r-1", "amount": "10.00", "reason": "r"}

    answers = all_at_once(lambda: httpx.post(f"{base}/charges/c-1/refunds", json=body, headers=headers, timeout=60))

    assert sorted(a.status_code for a in answers) == [200] * (CALLS - 1) + [201]
    assert {(a.json()["refund_id"], a.json()["amount"]) for a in answers} == {("r-1", "10.00")}
    assert Refund.objects.count() == 1
    assert Account.objects.get(client=client_a).balance == 80_00


def test_one_adjustment_id_adjusts_once(live_billy, client_a, operator_key):
    url = f"{live_billy.url}/api/v1/workspaces/c2b/clients/client-1/wallet/adjustments"
    headers = {"Authorization": f"Bearer {operator_key}"}
    body = {"adjustment_id": "adj-1", "amount": "50.00", "reason": "goodwill"}

    answers = all_at_once(lambda: httpx.post(url, json=body, headers=headers, timeout=60))

    assert sorted(a.status_code for a in answers) == [200] * (CALLS - 1) + [201]
    assert {a.json()["adjustment_id"] for a in answers} == {"adj-1"}
    assert Adjustment.objects.count() == 1
    assert Account.objects.get(client=client_a).balance == 50_00


def test_one_charge_id_over_grpc_charges_once(grpc_channel, client_a, service_key):
    fund(client_a, 100_00)
    charges = money_pb2_grpc.ChargeServiceStub(grpc_channel)
    request = money_pb2.CreateChargeRequest(
        workspace="c2b", client="client-1", charge_id="g-1", product="p", amount="30.00"
    )

    answers = all_at_once(
        lambda: charges.CreateCharge(request, metadata=[("authorization", f"Bearer {service_key}")], timeout=60)
    )

    assert sorted(a.created for a in answers) == [False] * (CALLS - 1) + [True]
    assert {(a.charge.charge_id, a.charge.amount, a.charge.status) for a in answers} == {
        ("g-1", "30.00", money_pb2.CHARGE_STATUS_COMPLETED)
    }
    assert Charge.objects.count() == 1
    assert Account.objects.get(client=client_a).balance == 70_00
