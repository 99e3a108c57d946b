"""gRPC errors carry the standard `google.rpc.Status` (grpc-status-details-bin) with an `ErrorInfo`
whose reason is billy's error code, beside billy's own trailers."""

import json

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from billy.v1 import clients_pb2, clients_pb2_grpc, money_pb2, money_pb2_grpc
from tests.charges.conftest import fund


def _details(error: grpc.RpcError) -> list:
    """The unpacked details of the call's google.rpc.Status."""
    status = rpc_status.from_call(error)
    assert status is not None, "no grpc-status-details-bin trailer"
    assert (status.code, status.message) == (error.code().value[0], error.details())
    unpacked = []
    for detail in status.details:
        for kind in (error_details_pb2.ErrorInfo, error_details_pb2.RetryInfo):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                unpacked.append(message)
    return unpacked


def test_a_refused_charge_says_insufficient_funds_in_error_info(grpc_channel, client_a, service_key):
    fund(client_a, 10_00)
    charges = money_pb2_grpc.ChargeServiceStub(grpc_channel)

    with pytest.raises(grpc.RpcError) as refused:
        charges.CreateCharge(
            money_pb2.CreateChargeRequest(
                workspace="c2b", client="client-1", charge_id="c-1", product="p", amount="50.00"
            ),
            metadata=[("authorization", f"Bearer {service_key}")],
            timeout=30,
        )

    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    (info,) = _details(refused.value)
    assert (info.reason, info.domain, dict(info.metadata)) == (
        "insufficient_funds",
        "billy",
        {"amount": "50.00", "currency": "RUB"},
    )
    assert dict(refused.value.trailing_metadata())["billy-error-code"] == "insufficient_funds"


def test_invalid_fields_arrive_as_json_in_error_info_metadata(grpc_channel, client_a, service_key):
    charges = money_pb2_grpc.ChargeServiceStub(grpc_channel)

    with pytest.raises(grpc.RpcError) as refused:
        charges.CreateCharge(
            money_pb2.CreateChargeRequest(
                workspace="c2b", client="client-1", charge_id="c-1", product="p", amount="1.234"
            ),
            metadata=[("authorization", f"Bearer {service_key}")],
            timeout=30,
        )

    (info,) = _details(refused.value)
    assert info.reason == "validation_failed"
    assert list(json.loads(info.metadata["fields"])) == ["amount"]


def test_an_upstream_outage_adds_retry_info(grpc_channel, workspace, service_key, balance_control):
    balance_control.inject("unavailable", count=1)
    clients = clients_pb2_grpc.ClientServiceStub(grpc_channel)

    with pytest.raises(grpc.RpcError) as refused:
        clients.CreateOrUpdateClient(
            clients_pb2.CreateOrUpdateClientRequest(
                workspace="c2b",
                service_client_id="client-9",
                name="ИП Петров",
                email="p@petrov.ru",
                phone="+79161234567",
            ),
            metadata=[("authorization", f"Bearer {service_key}")],
            timeout=30,
        )

    info, retry = _details(refused.value)
    assert (refused.value.code(), info.reason) == (grpc.StatusCode.UNAVAILABLE, "upstream_unavailable")
    assert retry.retry_delay.seconds == int(dict(refused.value.trailing_metadata())["retry-after"]) > 0
