"""A client that knows nothing but the server's address finds the feed and the plans through
reflection, builds its messages from what reflection told it, and calls them."""

import grpc
from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message_factory import GetMessageClass
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from billy.subscriptions.plans import ensure_plan
from tests.charges.conftest import fund
from tests.conftest import NOW, wait_for


def _reflected_call(channel: grpc.Channel, pool: DescriptorPool, service_name: str, method_name: str):
    """A callable for the method, with message classes made from the reflected descriptors only."""
    method = pool.FindServiceByName(service_name).FindMethodByName(method_name)
    request_class, response_class = GetMessageClass(method.input_type), GetMessageClass(method.output_type)
    call = channel.unary_unary(
        f"/{service_name}/{method_name}",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    return request_class, call


def test_the_feed_and_plans_services_are_discovered_and_called_through_reflection(
    grpc_channel, workspace, client_a, service_key
):
    ensure_plan(
        workspace=workspace,
        code="monthly",
        title="One month",
        price=299_00,
        period="MONTH",
        refund_policy="FULL",
        refund_days=14,
        now=NOW,
    )
    fund(client_a, 100_00, adjustment_id="gift-1")
    metadata = [("authorization", f"Bearer {service_key}")]
    database = ProtoReflectionDescriptorDatabase(grpc_channel)
    pool = DescriptorPool(database)

    services = set(database.get_services())
    plan_request, list_plans = _reflected_call(grpc_channel, pool, "billy.v1.PlanService", "ListPlans")
    event_request, list_events = _reflected_call(grpc_channel, pool, "billy.v1.EventService", "ListEvents")
    plans = list_plans(plan_request(workspace="c2b"), metadata=metadata, timeout=30).plans
    events = wait_for(lambda: list_events(event_request(workspace="c2b"), metadata=metadata, timeout=30).events)

    assert {"billy.v1.EventService", "billy.v1.PlanService"} <= services
    period = pool.FindEnumTypeByName("billy.v1.PlanPeriod")
    policy = pool.FindEnumTypeByName("billy.v1.RefundPolicy")
    assert [
        (
            p.code,
            p.price,
            p.currency,
            period.values_by_number[p.period].name,
            policy.values_by_number[p.refund_policy].name,
        )
        for p in plans
    ] == [("monthly", "299.00", "RUB", "PLAN_PERIOD_MONTH", "REFUND_POLICY_FULL")]
    assert [(e.type, e.data["adjustment_id"], e.data["amount"]) for e in events] == [
        ("wallet.adjusted", "gift-1", "100.00")
    ]
