"""Bad input over gRPC: each is a 4xx-like status with billy's error code, nothing echoed unbounded."""

import json

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from billy.charges.models import Charge
from billy.core.errors import MAX_DETAILS_LENGTH, MAX_MESSAGE_LENGTH
from billy.v1 import clients_pb2, clients_pb2_grpc, money_pb2, money_pb2_grpc
from tests.charges.conftest import fund

HUGE = "x" * 100_000


@pytest.fixture
def charges(grpc_channel):
    return money_pb2_grpc.ChargeServiceStub(grpc_channel)


@pytest.fixture
def clients(grpc_channel):
    return clients_pb2_grpc.ClientServiceStub(grpc_channel)


def auth(key):
    return [("authorization", f"Bearer {key}")]


def refusal(call) -> tuple[grpc.StatusCode, str, dict, str]:
    with pytest.raises(grpc.RpcError) as error:
        call()
    trailers = dict(error.value.trailing_metadata() or ())
    details = json.loads(trailers["billy-error-details"]) if "billy-error-details" in trailers else {}
    return error.value.code(), trailers.get("billy-error-code", ""), details, error.value.details() or ""


def list_charges(**fields) -> money_pb2.ListChargesRequest:
    return money_pb2.ListChargesRequest(workspace="c2b", client="client-1", **fields)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to": Timestamp(seconds=253402300800)}, "to"),  # 10000-01-01
        ({"from": Timestamp(seconds=-62135596801)}, "from"),  # before year 1
        ({"from": Timestamp(seconds=0, nanos=-1)}, "from"),
        ({"to": Timestamp(seconds=0, nanos=1_000_000_000)}, "to"),
        ({"status": 99}, "status"),  # proto3 takes any number for an enum; billy does not
        ({"product": "p\x00"}, "product"),
    ],
)
def test_bad_list_filters_are_invalid_argument(charges, client_a, service_key, fields, field):
    status, code, details, _ = refusal(lambda: charges.ListCharges(list_charges(**fields), metadata=auth(service_key)))

    assert (status, code, list(details["fields"])) == (grpc.StatusCode.INVALID_ARGUMENT, "validation_failed", [field])


def test_the_widest_timestamps_and_a_known_status_are_taken(charges, client_a, service_key):
    fund(client_a, 10_00)
    charges.CreateCharge(
        money_pb2.CreateChargeRequest(workspace="c2b", client="client-1", charge_id="c-1", product="p", amount="1.00"),
        metadata=auth(service_key),
    )
    request = list_charges(
        status=money_pb2.CHARGE_STATUS_COMPLETED,
        to=Timestamp(seconds=253402300799, nanos=999_999_999),
        **{"from": Timestamp(seconds=-62135596800)},
    )

    answer = charges.ListCharges(request, metadata=auth(service_key))

    assert [c.charge_id for c in answer.charges] == ["c-1"]


@pytest.mark.parametrize(
    "call",
    [
        lambda stubs: stubs[0].GetCharge(
            money_pb2.GetChargeRequest(workspace="c2b", charge_id=HUGE), metadata=stubs[2]
        ),
        lambda stubs: stubs[0].GetCharge(money_pb2.GetChargeRequest(workspace=HUGE, charge_id="c"), metadata=stubs[2]),
        lambda stubs: stubs[1].GetClient(
            clients_pb2.GetClientRequest(workspace="c2b", service_client_id=HUGE), metadata=stubs[2]
        ),
        lambda stubs: stubs[0].CreateCharge(
            money_pb2.CreateChargeRequest(
                workspace="c2b", client="client-1", charge_id=HUGE, product=HUGE, amount=HUGE
            ),
            metadata=stubs[2],
        ),
    ],
    ids=["charge_id", "workspace", "service_client_id", "every_field"],
)
def test_a_huge_value_is_not_echoed_in_the_error(charges, clients, client_a, service_key, call):
    status, code, details, message = refusal(lambda: call((charges, clients, auth(service_key))))

    assert status in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT), (status, message[:200])
    assert code in ("charge_not_found", "workspace_not_found", "client_not_found", "validation_failed")
    assert len(message) <= MAX_MESSAGE_LENGTH
    assert len(json.dumps(details)) <= MAX_DETAILS_LENGTH
    assert Charge.objects.count() == 0


@pytest.mark.parametrize("order", ["good_first", "good_last", "both_good"])
def test_two_authorization_entries_are_unauthenticated(charges, client_a, service_key, order):
    good, bad = ("authorization", f"Bearer {service_key}"), ("authorization", "Bearer wrong")
    metadata = {"good_first": [good, bad], "good_last": [bad, good], "both_good": [good, good]}[order]

    status, code, _, _ = refusal(lambda: charges.ListCharges(list_charges(), metadata=metadata))

    assert (status, code) == (grpc.StatusCode.UNAUTHENTICATED, "unauthenticated")
