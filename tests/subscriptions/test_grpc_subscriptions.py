"""billy.v1.SubscriptionService through `billy grpc`, with methods and messages found by reflection:
subscribe, read, list, cancel and resume renewal, refund; the same idempotency key replays the
resource it made, and errors carry billy's codes as HTTP's do."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message_factory import GetMessageClass
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from grpc_status import rpc_status

from billy.core import clock
from billy.subscriptions.models import Subscription
from billy.subscriptions.payments import recheck_payment

from .conftest import run_jobs
from .renewal_helpers import RETURN_URL

SERVICE = "billy.v1.SubscriptionService"


class Reflected:
    """Calls of SubscriptionService built only from what the server's reflection tells."""

    def __init__(self, channel: grpc.Channel, api_key: str) -> None:
        self.channel = channel
        self.database = ProtoReflectionDescriptorDatabase(channel)
        self.pool = DescriptorPool(self.database)
        self.service = self.pool.FindServiceByName(SERVICE)
        self.api_key = api_key

    def __call__(self, method_name: str, key: str | None = None, **fields):
        method = self.service.FindMethodByName(method_name)
        request_class, response_class = GetMessageClass(method.input_type), GetMessageClass(method.output_type)
        call = self.channel.unary_unary(
            f"/{SERVICE}/{method_name}",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        metadata = [("authorization", f"Bearer {self.api_key}")]
        if key is not None:
            metadata.append(("idempotency-key", key))
        return call(request_class(workspace="cinema", **fields), metadata=metadata, timeout=30)

    def enum_name(self, enum: str, number: int) -> str:
        return self.pool.FindEnumTypeByName(f"billy.v1.{enum}").values_by_number[number].name


def _error_reason(error: grpc.RpcError) -> str:
    [detail] = [d for d in rpc_status.from_call(error).details if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR)]
    info = error_details_pb2.ErrorInfo()
    detail.Unpack(info)
    return info.reason


@pytest.fixture
def rpc(grpc_channel, cinema, cinema_key, yookassa):
    return Reflected(grpc_channel, cinema_key)


def test_subscribe_read_cancel_resume_and_refund_through_reflection(rpc, yookassa, auth, notifications):
    assert SERVICE in set(rpc.database.get_services())
    made = rpc("Subscribe", key="sub-1", user_id="user-1", plan="monthly", return_url=RETURN_URL)
    replayed = rpc("Subscribe", key="sub-1", user_id="user-1", plan="monthly", return_url=RETURN_URL)
    assert made.created and replayed.created
    assert replayed.subscription.id == made.subscription.id
    assert rpc.enum_name("SubscriptionStatus", made.subscription.status) == "SUBSCRIPTION_STATUS_PENDING"
    payment = made.subscription.payment
    assert (payment.amount, payment.currency, payment.period) == ("299.00", "RUB", 1)

    yookassa.pay(payment.provider_payment_id)
    recheck_payment(payment_id=payment.payment_id, now=clock.now())
    run_jobs()

    read = rpc("GetSubscription", subscription_id=made.subscription.id)
    assert rpc.enum_name("SubscriptionStatus", read.status) == "SUBSCRIPTION_STATUS_ACTIVE"
    assert (read.renews, read.card_saved, read.card_last4, read.period_number) == (True, True, "4477", 1)
    assert read.next_renewal_at.ToDatetime() < read.period_end.ToDatetime()
    listed = rpc("ListUserSubscriptions", user_id="user-1")
    assert [s.id for s in listed.subscriptions] == [made.subscription.id]

    canceled = rpc("CancelSubscription", key="off-1", subscription_id=made.subscription.id)
    assert (canceled.renews, canceled.HasField("next_renewal_at")) == (False, False)
    resumed = rpc("ResumeSubscription", subscription_id=made.subscription.id)
    assert resumed.renews is True
    canceled_again = rpc("CancelSubscription", key="off-2", subscription_id=made.subscription.id)
    assert canceled_again.renews is False

    refund = rpc("RefundSubscription", key="refund-1", subscription_id=made.subscription.id, reason="changed mind")
    again = rpc("RefundSubscription", key="refund-1", subscription_id=made.subscription.id, reason="changed mind")
    assert refund.created and again.refund.refund_id == refund.refund.refund_id
    assert (refund.refund.amount, refund.refund.reason) == ("299.00", "changed mind")
    run_jobs()
    refunded = rpc("GetSubscription", subscription_id=made.subscription.id)
    assert rpc.enum_name("SubscriptionStatus", refunded.status) == "SUBSCRIPTION_STATUS_REFUNDED"
    assert [r["status"] for r in yookassa.refunds()] == ["succeeded"]
    assert len(yookassa.payments()) == 1
    assert Subscription.objects.get(pk=made.subscription.id).status == Subscription.Status.REFUNDED


def test_the_same_key_with_another_request_is_an_idempotency_conflict(rpc, yookassa):
    rpc("Subscribe", key="sub-1", user_id="user-1", plan="monthly", return_url=RETURN_URL)

    with pytest.raises(grpc.RpcError) as caught:
        rpc("Subscribe", key="sub-1", user_id="user-2", plan="monthly", return_url=RETURN_URL)

    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert _error_reason(caught.value) == "idempotency_conflict"
    assert len(yookassa.payments()) == 1


def test_subscribe_without_a_key_is_invalid_and_unknown_ids_are_not_found(rpc, yookassa):
    with pytest.raises(grpc.RpcError) as missing_key:
        rpc("Subscribe", user_id="user-1", plan="monthly", return_url=RETURN_URL)
    with pytest.raises(grpc.RpcError) as unknown:
        rpc("CancelSubscription", subscription_id="00000000-0000-4000-8000-000000000000")

    assert (missing_key.value.code(), _error_reason(missing_key.value)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "validation_failed",
    )
    assert (unknown.value.code(), _error_reason(unknown.value)) == (grpc.StatusCode.NOT_FOUND, "subscription_not_found")
    assert yookassa.payments() == []
