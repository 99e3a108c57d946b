"""billy.v1.FamilyService against `billy grpc` and the card system emulator: the same operations and
rules as HTTP, errors through the one table."""

from __future__ import annotations

import grpc
import pytest

from billy.v1 import families_pb2 as pb
from billy.v1 import families_pb2_grpc
from tests.conftest import make_api_key
from tests.families.conftest import OWNER

KID = "kid"


@pytest.fixture
def stub(grpc_channel):
    return families_pb2_grpc.FamilyServiceStub(grpc_channel)


@pytest.fixture
def auth(taxi):
    return (("authorization", f"Bearer {make_api_key('taxi')}"),)


@pytest.fixture
def family(stub, auth, cards) -> pb.Family:
    family = stub.CreateFamily(pb.CreateFamilyRequest(workspace="taxi", owner=OWNER, name="Ивановы"), metadata=auth)
    stub.AddFamilyMember(
        pb.AddFamilyMemberRequest(
            workspace="taxi",
            family_id=family.id,
            acting_user_id=OWNER,
            user_id=KID,
            phone="+79990000001",
            limit="1000.00",
        ),
        metadata=auth,
    )
    return stub.PutFamilyPaymentMethod(
        pb.PutFamilyPaymentMethodRequest(
            workspace="taxi", family_id=family.id, acting_user_id=OWNER, payment_method_id=cards.bind_card(OWNER)
        ),
        metadata=auth,
    )


def reason(error: grpc.RpcError) -> str:
    return dict(error.trailing_metadata())["billy-error-code"]


def test_a_family_with_a_limited_member_and_the_owners_card(family):
    assert [(m.user_id, m.role, m.limit.unlimited, m.limit.amount) for m in family.members] == [
        (OWNER, pb.MEMBER_ROLE_OWNER, True, ""),
        (KID, pb.MEMBER_ROLE_MEMBER, False, "1000.00"),
    ]
    assert family.payment.main_payment_method_id.startswith("card-x")
    assert (family.revision, family.has_specific_limit) == (3, True)


def test_check_available_spend_clear_and_refund(stub, auth, family, cards):
    def available(amount: str) -> pb.CheckFamilyAvailableResponse:
        request = pb.CheckFamilyAvailableRequest(workspace="taxi", family_id=family.id, user_id=KID, amount=amount)
        return stub.CheckFamilyAvailable(request, metadata=auth)

    assert (available("999.99").available, available("1000.01").available) == (True, False)
    made = stub.CreateFamilySpending(
        pb.CreateFamilySpendingRequest(
            workspace="taxi", family_id=family.id, spending_id="ride-1", user_id=KID, amount="400.00"
        ),
        metadata=auth,
    )
    cleared = stub.ClearFamilySpending(
        pb.ClearFamilySpendingRequest(workspace="taxi", family_id=family.id, spending_id="ride-1", amount="300.00"),
        metadata=auth,
    )
    refund = stub.RefundFamilySpending(
        pb.RefundFamilySpendingRequest(
            workspace="taxi", family_id=family.id, spending_id="ride-1", refund_id="back-1", amount="100.00"
        ),
        metadata=auth,
    )

    assert (made.created, made.spending.status) == (True, pb.SPENDING_STATUS_HELD)
    assert (cleared.status, cleared.cleared_amount) == (pb.SPENDING_STATUS_CLEARED, "300.00")
    assert (refund.created, refund.refund.status) == (True, pb.SPENDING_REFUND_STATUS_SUCCEEDED)
    assert (available("800.00").usage, available("800.00").available) == ("200.00", True)
    methods = stub.ListUserPaymentMethods(
        pb.ListUserPaymentMethodsRequest(workspace="taxi", user_id=KID), metadata=auth
    )
    assert [(m.id, m.payer_info.family_info.usage) for m in methods.payment_methods] == [
        (family.payment.main_payment_method_id, "200.00")
    ]


def test_a_spending_past_the_limit_is_failed_precondition(stub, auth, family, cards):
    with pytest.raises(grpc.RpcError) as refused:
        stub.CreateFamilySpending(
            pb.CreateFamilySpendingRequest(
                workspace="taxi", family_id=family.id, spending_id="ride-1", user_id=KID, amount="1000.01"
            ),
            metadata=auth,
        )

    assert (refused.value.code(), reason(refused.value)) == (grpc.StatusCode.FAILED_PRECONDITION, "limit_exceeded")
    assert cards.payments() == []


def test_only_the_owner_changes_limits_and_on_the_current_revision(stub, auth, family):
    def put(acting: str, revision: int):
        request = pb.PutFamilyMemberLimitRequest(
            workspace="taxi", family_id=family.id, acting_user_id=acting, user_id=KID, unlimited=True, revision=revision
        )
        return stub.PutFamilyMemberLimit(request, metadata=auth)

    with pytest.raises(grpc.RpcError) as not_owner:
        put(KID, family.revision)
    changed = put(OWNER, family.revision)
    with pytest.raises(grpc.RpcError) as stale:
        put(OWNER, family.revision)

    assert (not_owner.value.code(), reason(not_owner.value)) == (grpc.StatusCode.PERMISSION_DENIED, "not_owner")
    assert changed.members[1].limit.unlimited
    assert (stale.value.code(), reason(stale.value)) == (grpc.StatusCode.ABORTED, "stale_revision")


def test_a_limit_frame_the_enum_does_not_define_is_invalid_argument(stub, auth, family):
    request = pb.PutFamilyMemberLimitRequest(
        workspace="taxi",
        family_id=family.id,
        acting_user_id=OWNER,
        user_id=KID,
        amount="10.00",
        frame=7,
        revision=family.revision,
    )

    with pytest.raises(grpc.RpcError) as refused:
        stub.PutFamilyMemberLimit(request, metadata=auth)

    assert (refused.value.code(), reason(refused.value)) == (grpc.StatusCode.INVALID_ARGUMENT, "validation_failed")


def test_a_user_in_a_family_cannot_own_another(stub, auth, family):
    with pytest.raises(grpc.RpcError) as refused:
        stub.CreateFamily(pb.CreateFamilyRequest(workspace="taxi", owner=KID, name="Another"), metadata=auth)

    assert (refused.value.code(), reason(refused.value)) == (grpc.StatusCode.ALREADY_EXISTS, "already_in_family")
