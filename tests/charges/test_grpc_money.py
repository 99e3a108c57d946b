"""WalletService and ChargeService through a real channel to `billy grpc`."""

import grpc
import pytest

from billy.v1 import money_pb2, money_pb2_grpc
from tests.charges.conftest import fund


@pytest.fixture
def charges(grpc_channel):
    return money_pb2_grpc.ChargeServiceStub(grpc_channel)


@pytest.fixture
def wallets(grpc_channel):
    return money_pb2_grpc.WalletServiceStub(grpc_channel)


def auth(key):
    return [("authorization", f"Bearer {key}")]


def create(charge_id="g-1", amount="30.00", **extra):
    return money_pb2.CreateChargeRequest(
        workspace="c2b", client="client-1", charge_id=charge_id, product="p", amount=amount, **extra
    )


def test_charge_lifecycle(charges, wallets, client_a, service_key):
    fund(client_a, 100_00)
    metadata = auth(service_key)

    created = charges.CreateCharge(create(), metadata=metadata, timeout=10)
    repeat = charges.CreateCharge(create(), metadata=metadata, timeout=10)
    held = charges.CreateCharge(create("g-2", hold=True), metadata=metadata, timeout=10)
    confirmed = charges.ConfirmCharge(
        money_pb2.ConfirmChargeRequest(workspace="c2b", charge_id="g-2", amount="10.00"), metadata=metadata
    )
    refund = charges.RefundCharge(
        money_pb2.RefundChargeRequest(workspace="c2b", charge_id="g-1", refund_id="gr-1"), metadata=metadata
    )
    listed = charges.ListCharges(
        money_pb2.ListChargesRequest(workspace="c2b", client="client-1", limit=10), metadata=metadata
    )
    wallet = wallets.GetWallet(money_pb2.GetWalletRequest(workspace="c2b", client="client-1"), metadata=metadata)

    assert (created.created, created.charge.status, repeat.created) == (True, money_pb2.CHARGE_STATUS_COMPLETED, False)
    assert (held.charge.status, confirmed.status, confirmed.captured_amount) == (
        money_pb2.CHARGE_STATUS_HELD,
        money_pb2.CHARGE_STATUS_COMPLETED,
        "10.00",
    )
    assert (refund.created, refund.refund.amount) == (True, "30.00")
    assert [c.charge_id for c in listed.charges] == ["g-2", "g-1"]
    assert (wallet.balance, wallet.available) == ("90.00", "90.00")


def test_errors_map_to_status_codes(charges, wallets, client_a, service_key):
    fund(client_a, 10_00)
    metadata = auth(service_key)
    cases = [
        (
            lambda: charges.CreateCharge(create(), metadata=metadata),
            grpc.StatusCode.FAILED_PRECONDITION,
            "insufficient_funds",
        ),
        (
            lambda: charges.CreateCharge(create(amount="1.001"), metadata=metadata),
            grpc.StatusCode.INVALID_ARGUMENT,
            "validation_failed",
        ),
        (
            lambda: charges.GetCharge(money_pb2.GetChargeRequest(workspace="c2b", charge_id="none"), metadata=metadata),
            grpc.StatusCode.NOT_FOUND,
            "charge_not_found",
        ),
        (
            lambda: wallets.AdjustWallet(
                money_pb2.AdjustWalletRequest(
                    workspace="c2b", client="client-1", adjustment_id="a", amount="1.00", reason="r"
                ),
                metadata=metadata,
            ),
            grpc.StatusCode.PERMISSION_DENIED,
            "forbidden",
        ),
    ]
    for call, status, code in cases:
        with pytest.raises(grpc.RpcError) as error:
            call()
        assert error.value.code() == status
        assert dict(error.value.trailing_metadata())["billy-error-code"] == code


def test_operator_adjusts_and_batch_charges(charges, wallets, client_a, operator_key):
    metadata = auth(operator_key)
    adjusted = wallets.AdjustWallet(
        money_pb2.AdjustWalletRequest(
            workspace="c2b", client="client-1", adjustment_id="adj-g", amount="50.00", reason="gift"
        ),
        metadata=metadata,
    )
    batch = charges.CreateCharges(
        money_pb2.CreateChargesRequest(workspace="c2b", charges=[create("b-1", "20.00"), create("b-2", "40.00")]),
        metadata=metadata,
    )

    assert (adjusted.created, adjusted.wallet.balance) == (True, "50.00")
    assert (adjusted.client, adjusted.reason, adjusted.created_by) == ("client-1", "gift", "api key test")
    assert adjusted.HasField("created_at")
    assert [(r.status, r.error_code) for r in batch.results] == [(201, ""), (422, "insufficient_funds")]


def test_batch_answers_a_bad_amount_per_item(charges, client_a, service_key):
    fund(client_a, 100_00)
    batch = charges.CreateCharges(
        money_pb2.CreateChargesRequest(workspace="c2b", charges=[create("p-1", "1.234"), create("p-2", "5.00")]),
        metadata=auth(service_key),
    )
    assert [(r.status, r.error_code) for r in batch.results] == [(422, "validation_failed"), (201, "")]
