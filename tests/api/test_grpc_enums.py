"""Statuses and kinds are proto enums: every choice of a model has its value, and values round-trip."""

import grpc
import pytest

from billy.api.grpc.enums import enum_number, enum_value
from billy.charges.models import Charge
from billy.clients.models import Client
from billy.families.models import Member, Spending, SpendingRefund
from billy.ledger.models import LedgerTransaction, SpendingLimit
from billy.moneyin.models import CreditTransfer, Invoice
from billy.payers.models import Contract, Payer
from billy.subscriptions.models import Plan
from billy.v1 import clients_pb2, families_pb2, money_pb2, money_pb2_grpc, moneyin_pb2, subscriptions_pb2
from tests.charges.conftest import fund

ENUMS = [
    (Client.Status, clients_pb2.ClientStatus),
    (Charge.Status, money_pb2.ChargeStatus),
    (Charge.CancelReason, money_pb2.CancelReason),
    (LedgerTransaction.Kind, money_pb2.TransactionKind),
    (Plan.Period, subscriptions_pb2.PlanPeriod),
    (Plan.RefundPolicy, subscriptions_pb2.RefundPolicy),
    (CreditTransfer.Status, money_pb2.CreditTransferStatus),
    (Payer.Type, moneyin_pb2.PayerType),
    (Payer.Status, moneyin_pb2.PayerStatus),
    (Contract.PaymentType, moneyin_pb2.PaymentType),
    (Contract.Status, moneyin_pb2.ContractStatus),
    (Invoice.Kind, moneyin_pb2.InvoiceKind),
    (Invoice.Status, moneyin_pb2.InvoiceStatus),
    (Member.Role, families_pb2.MemberRole),
    (SpendingLimit.Frame, families_pb2.LimitFrame),
    (Spending.Status, families_pb2.SpendingStatus),
    (Spending.CancelReason, families_pb2.SpendingCancelReason),
    (SpendingRefund.Status, families_pb2.SpendingRefundStatus),
]


@pytest.mark.parametrize(("choices", "enum"), ENUMS, ids=[e.DESCRIPTOR.name for _, e in ENUMS])
def test_every_choice_has_its_enum_value_and_comes_back(choices, enum):
    numbers = [enum_number(enum, value) for value in choices.values]

    assert [enum_value(enum, n, field="f") for n in numbers] == list(choices.values)
    assert sorted(numbers) == sorted(n for n in enum.values() if n != 0)  # neither has a value the other lacks
    assert (enum_number(enum, ""), enum_value(enum, 0, field="f")) == (0, None)


def test_statuses_over_the_wire_and_as_a_filter(grpc_channel, client_a, service_key):
    fund(client_a, 100_00)
    charges = money_pb2_grpc.ChargeServiceStub(grpc_channel)
    metadata = [("authorization", f"Bearer {service_key}")]

    def create(charge_id, hold):
        request = money_pb2.CreateChargeRequest(
            workspace="c2b", client="client-1", charge_id=charge_id, product="p", amount="1.00", hold=hold
        )
        return charges.CreateCharge(request, metadata=metadata, timeout=30).charge

    create("done", hold=False)
    create("held", hold=True)
    create("gone", hold=True)
    cancelled = charges.CancelCharge(
        money_pb2.CancelChargeRequest(workspace="c2b", charge_id="gone"), metadata=metadata, timeout=30
    )
    listed = {
        status: [
            (c.charge_id, c.status, c.cancel_reason)
            for c in charges.ListCharges(
                money_pb2.ListChargesRequest(workspace="c2b", client="client-1", status=status),
                metadata=metadata,
                timeout=30,
            ).charges
        ]
        for status in money_pb2.ChargeStatus.values()
    }

    assert cancelled.cancel_reason == money_pb2.CANCEL_REASON_REQUESTED
    assert listed == {
        money_pb2.CHARGE_STATUS_UNSPECIFIED: [  # no filter
            ("gone", money_pb2.CHARGE_STATUS_CANCELLED, money_pb2.CANCEL_REASON_REQUESTED),
            ("held", money_pb2.CHARGE_STATUS_HELD, money_pb2.CANCEL_REASON_UNSPECIFIED),
            ("done", money_pb2.CHARGE_STATUS_COMPLETED, money_pb2.CANCEL_REASON_UNSPECIFIED),
        ],
        money_pb2.CHARGE_STATUS_HELD: [("held", money_pb2.CHARGE_STATUS_HELD, money_pb2.CANCEL_REASON_UNSPECIFIED)],
        money_pb2.CHARGE_STATUS_COMPLETED: [
            ("done", money_pb2.CHARGE_STATUS_COMPLETED, money_pb2.CANCEL_REASON_UNSPECIFIED)
        ],
        money_pb2.CHARGE_STATUS_CANCELLED: [
            ("gone", money_pb2.CHARGE_STATUS_CANCELLED, money_pb2.CANCEL_REASON_REQUESTED)
        ],
    }
    with pytest.raises(grpc.RpcError) as unknown:
        charges.ListCharges(
            money_pb2.ListChargesRequest(workspace="c2b", client="client-1", status=99), metadata=metadata, timeout=30
        )
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_wallet_transaction_kinds_over_the_wire(grpc_channel, client_a, service_key):
    fund(client_a, 100_00)
    metadata = [("authorization", f"Bearer {service_key}")]
    money_pb2_grpc.ChargeServiceStub(grpc_channel).CreateCharge(
        money_pb2.CreateChargeRequest(workspace="c2b", client="client-1", charge_id="c-1", product="p", amount="1.00"),
        metadata=metadata,
        timeout=30,
    )

    page = money_pb2_grpc.WalletServiceStub(grpc_channel).ListWalletTransactions(
        money_pb2.ListWalletTransactionsRequest(workspace="c2b", client="client-1"), metadata=metadata, timeout=30
    )

    assert [t.kind for t in page.transactions] == [
        money_pb2.TRANSACTION_KIND_CHARGE,
        money_pb2.TRANSACTION_KIND_ADJUSTMENT,
    ]
