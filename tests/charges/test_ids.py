"""A consumer-chosen id follows one rule, checked where the resource is created, for every transport."""

import grpc
import pytest

from billy.charges import operations as charge_operations
from billy.charges.models import Charge, Refund
from billy.core.errors import ValidationFailed
from billy.core.validation import check_id
from billy.events.models import Event
from billy.ledger import operations as ledger_operations
from billy.ledger.models import Adjustment, LedgerTransaction
from billy.v1 import money_pb2, money_pb2_grpc
from tests.charges.conftest import fund
from tests.conftest import NOW


@pytest.mark.parametrize("value", ["a", "A-z_0.9~x", "1", "x" * 128, "a..b", "a."])
def test_ids_the_rule_allows(value):
    errors = {}
    check_id(errors, "charge_id", value)
    assert errors == {}


@pytest.mark.parametrize(
    "value",
    ["", ".", "..", "-a", "_a", "~a", "a/b", "a b", "a%2F", "a?b", "a#b", "a\nb", "a\n", "a\x00", "ё", "x" * 129],
)
def test_ids_the_rule_refuses(value):
    errors = {}
    check_id(errors, "charge_id", value)
    assert list(errors) == ["charge_id"]


def stored():
    return [m.objects.count() for m in (Charge, Refund, Adjustment, LedgerTransaction, Event)]


def test_operations_refuse_a_bad_id_whoever_calls_them(client_a):
    fund(client_a, 100_00)
    before = stored()
    calls = {
        "charge_id": lambda: charge_operations.post_charge(
            client=client_a,
            request=charge_operations.ChargeRequest(charge_id="a/b", product="p", amount=100, hold=True),
            now=NOW,
        ),
        "refund_id": lambda: charge_operations.refund_charge(
            workspace=client_a.workspace, charge_id="c", refund_id="r/1", amount=None, reason="", now=NOW
        ),
        "adjustment_id": lambda: ledger_operations.adjust_wallet(
            client=client_a, adjustment_id="a/b", amount=100, reason="r", actor="test", now=NOW
        ),
    }
    refused = {}
    for field, call in calls.items():
        with pytest.raises(ValidationFailed) as error:
            call()
        refused[field] = list(error.value.fields)
    assert refused == {"charge_id": ["charge_id"], "refund_id": ["refund_id"], "adjustment_id": ["adjustment_id"]}
    assert stored() == before


def test_grpc_refuses_a_charge_id_http_could_never_reach(grpc_channel, client_a, service_key):
    fund(client_a, 100_00)
    charges = money_pb2_grpc.ChargeServiceStub(grpc_channel)
    metadata = [("authorization", f"Bearer {service_key}")]
    before = stored()

    with pytest.raises(grpc.RpcError) as error:
        charges.CreateCharge(
            money_pb2.CreateChargeRequest(
                workspace="c2b", client="client-1", charge_id="a/b", product="p", amount="1.00", hold=True
            ),
            metadata=metadata,
            timeout=30,
        )
    batch = charges.CreateCharges(
        money_pb2.CreateChargesRequest(
            workspace="c2b",
            charges=[
                money_pb2.CreateChargeRequest(workspace="c2b", client="", charge_id="b-1", product="p", amount="1.00")
            ],
        ),
        metadata=metadata,
        timeout=30,
    )

    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(error.value.trailing_metadata())["billy-error-code"] == "validation_failed"
    assert [(r.status, r.error_code) for r in batch.results] == [(422, "validation_failed")]
    assert stored() == before
