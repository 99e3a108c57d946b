"""billy.v1.ClientService through a real channel to `billy grpc`, with health and reflection."""

import json

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from billy.v1 import clients_pb2, clients_pb2_grpc
from tests.conftest import make_api_key, make_workspace

REQUEST = {"workspace": "c2b", "service_client_id": "client-1", "name": "ООО Ромашка", "email": "info@romashka.ru"}


@pytest.fixture
def stub(grpc_channel):
    return clients_pb2_grpc.ClientServiceStub(grpc_channel)


@pytest.fixture
def key(workspace, balance_control):
    return make_api_key("c2b")


def auth(key):
    return [("authorization", f"Bearer {key}")]


def test_create_or_update_client(stub, key, balance_control):
    request = clients_pb2.CreateOrUpdateClientRequest(**REQUEST, phone="8 (495) 123-45-67")

    response = stub.CreateOrUpdateClient(request, metadata=auth(key), timeout=10)

    assert response.created
    assert (response.client.phone, response.client.status) == ("+74951234567", clients_pb2.CLIENT_STATUS_ACTIVE)
    assert stub.CreateOrUpdateClient(request, metadata=auth(key), timeout=10).created is False
    fetched = stub.GetClient(
        clients_pb2.GetClientRequest(workspace="c2b", service_client_id="client-1"), metadata=auth(key), timeout=10
    )
    assert fetched == response.client
    assert len(balance_control.calls("CreateClient")) == 1


def test_validation_error_is_invalid_argument_with_fields(stub, key, balance_control):
    request = clients_pb2.CreateOrUpdateClientRequest(**{**REQUEST, "email": "nope"}, phone="")

    with pytest.raises(grpc.RpcError) as error:
        stub.CreateOrUpdateClient(request, metadata=auth(key), timeout=10)

    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    trailers = dict(error.value.trailing_metadata())
    assert trailers["billy-error-code"] == "validation_failed"
    assert set(json.loads(trailers["billy-error-details"])["fields"]) == {"email", "phone"}
    assert balance_control.calls() == []


@pytest.mark.parametrize("metadata", [[], [("authorization", "Bearer wrong")]])
def test_missing_or_bad_key_is_unauthenticated(stub, workspace, metadata):
    with pytest.raises(grpc.RpcError) as error:
        stub.CreateOrUpdateClient(
            clients_pb2.CreateOrUpdateClientRequest(**REQUEST, phone="+74951234567"), metadata=metadata, timeout=10
        )
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert dict(error.value.trailing_metadata())["billy-error-code"] == "unauthenticated"


def test_workspace_not_granted_answers_as_one_that_does_not_exist(stub, key):
    make_workspace("autoru")
    answers = []
    for name in ("autoru", "nosuch"):
        with pytest.raises(grpc.RpcError) as error:
            stub.GetClient(
                clients_pb2.GetClientRequest(workspace=name, service_client_id="x"), metadata=auth(key), timeout=10
            )
        answers.append(
            (error.value.code(), dict(error.value.trailing_metadata())["billy-error-code"], error.value.details())
        )

    assert answers == [
        (grpc.StatusCode.NOT_FOUND, "workspace_not_found", "No workspace named 'autoru'."),
        (grpc.StatusCode.NOT_FOUND, "workspace_not_found", "No workspace named 'nosuch'."),
    ]


def test_unknown_client_is_not_found(stub, key):
    with pytest.raises(grpc.RpcError) as error:
        stub.GetClient(clients_pb2.GetClientRequest(workspace="c2b", service_client_id="x"), metadata=auth(key))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert dict(error.value.trailing_metadata())["billy-error-code"] == "client_not_found"


def test_balance_outage_is_unavailable_with_retry_after(stub, key, balance_control):
    balance_control.inject("unavailable", count=1)
    request = clients_pb2.CreateOrUpdateClientRequest(**REQUEST, phone="+74951234567")

    with pytest.raises(grpc.RpcError) as error:
        stub.CreateOrUpdateClient(request, metadata=auth(key), timeout=10)

    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    assert int(dict(error.value.trailing_metadata())["retry-after"]) > 0
    assert stub.CreateOrUpdateClient(request, metadata=auth(key), timeout=10).created


def test_health_and_reflection_need_no_key(grpc_channel):
    health = health_pb2_grpc.HealthStub(grpc_channel)
    for service in ("", "billy.v1.ClientService"):
        status = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10).status
        assert status == health_pb2.HealthCheckResponse.SERVING

    reflection = reflection_pb2_grpc.ServerReflectionStub(grpc_channel)
    responses = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert "billy.v1.ClientService" in names
