"""Every string field of every billy.v1 call, sent unprintable or huge: an answer with billy's error
code (or a success), never INTERNAL, UNKNOWN or a dead stream."""

import grpc
import pytest

from billy.v1 import clients_pb2, events_pb2, money_pb2, subscriptions_pb2
from tests.charges.conftest import fund, make_client
from tests.conftest import make_api_key

MODULES = {m.DESCRIPTOR: m for m in (clients_pb2, money_pb2, events_pb2, subscriptions_pb2)}
SERVICES = [service for module in MODULES for service in module.services_by_name.values()]
DEFAULTS = {
    "workspace": "c2b",
    "service_client_id": "client-1",
    "client": "client-1",
    "amount": "1.00",
    "charge_id": "c-1",
}


@pytest.mark.parametrize("value", ["a\x00b", "x" * 100_000, "\ufffe"], ids=["nul", "huge", "non_character"])
def test_a_bad_string_in_any_field_is_never_an_internal_error(grpc_channel, workspace, value):
    fund(make_client(workspace), 100_00)
    metadata = [("authorization", f"Bearer {make_api_key('c2b', role='OPERATOR')}")]
    answers = {}
    for service in SERVICES:
        for method in service.methods:
            request_class = getattr(MODULES[service.file], method.input_type.name)
            call = grpc_channel.unary_unary(
                f"/{service.full_name}/{method.name}",
                request_serializer=request_class.SerializeToString,
                response_deserializer=lambda b: b,
            )
            fields = {k: v for k, v in DEFAULTS.items() if k in method.input_type.fields_by_name}
            for field in method.input_type.fields:
                if field.type != field.TYPE_STRING or field.is_repeated:
                    continue
                try:
                    call(request_class(**{**fields, field.name: value}), metadata=metadata, timeout=30)
                    answers[f"{method.name}.{field.name}"] = "OK"
                except grpc.RpcError as e:
                    code = dict(e.trailing_metadata() or ()).get("billy-error-code", "")
                    answers[f"{method.name}.{field.name}"] = f"{e.code().name} {code}"

    assert len(answers) > 30
    assert {k: v for k, v in answers.items() if "INTERNAL" in v or "UNKNOWN" in v or v.endswith(" ")} == {}
