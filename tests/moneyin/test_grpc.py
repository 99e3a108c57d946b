"""Money in over gRPC against `billy grpc` and the emulator: payer, contract, invoice, credit
transfer; the same errors as over HTTP; another workspace's key sees nothing."""

from __future__ import annotations

import grpc
import pytest

from billy.v1 import money_pb2, money_pb2_grpc, moneyin_pb2, moneyin_pb2_grpc
from tests.conftest import make_api_key, make_workspace


@pytest.fixture
def stubs(grpc_channel):
    return (
        moneyin_pb2_grpc.PayerServiceStub(grpc_channel),
        moneyin_pb2_grpc.ContractServiceStub(grpc_channel),
        moneyin_pb2_grpc.InvoiceServiceStub(grpc_channel),
        money_pb2_grpc.WalletServiceStub(grpc_channel),
    )


PAYER = moneyin_pb2.PayerFields(
    type=moneyin_pb2.PAYER_TYPE_LEGAL,
    name="ООО Ромашка",
    inn="7707083893",
    kpp="773601001",
    email="buh@romashka.ru",
    phone="+74951234567",
    legal_address="Москва, ул. Льва Толстого, 16",
)


def error_code(error: grpc.RpcError) -> str:
    return dict(error.trailing_metadata()).get("billy-error-code", "")


def test_payer_contract_invoice_and_credit_over_grpc(stubs, money, service_key):
    payers, contracts, invoices, wallets = stubs
    meta = [("authorization", f"Bearer {service_key}")]
    money.register()

    put = payers.PutPayer(
        moneyin_pb2.PutPayerRequest(workspace="c2b", client="client-1", payer_id="payer-1", payer=PAYER), metadata=meta
    )
    assert put.created and put.payer.status == moneyin_pb2.PAYER_STATUS_ACTIVE
    contract = contracts.PutContract(
        moneyin_pb2.PutContractRequest(
            workspace="c2b",
            client="client-1",
            contract_id="contract-1",
            payer_id="payer-1",
            payment_type=moneyin_pb2.PAYMENT_TYPE_POSTPAY,
            credit_limit="5000.00",
            payment_term_days=15,
            start_date="2026-11-01",
        ),
        metadata=meta,
    ).contract
    assert (contract.status, contract.credit_limit) == (moneyin_pb2.CONTRACT_STATUS_ACTIVE, "5000.00")

    invoice = invoices.CreateInvoice(
        moneyin_pb2.CreateInvoiceRequest(workspace="c2b", client="client-1", invoice_id="inv-1", amount="100.00"),
        metadata=meta,
    )
    assert invoice.created and invoice.invoice.status == moneyin_pb2.INVOICE_STATUS_ISSUED
    listed = invoices.ListInvoices(moneyin_pb2.ListInvoicesRequest(workspace="c2b", client="client-1"), metadata=meta)
    assert [i.invoice_id for i in listed.invoices] == ["inv-1"]

    moved = wallets.CreateCreditTransfer(
        money_pb2.CreateCreditTransferRequest(workspace="c2b", client="client-1", transfer_id="t-1", amount="3000.00"),
        metadata=meta,
    )
    assert moved.transfer.status == money_pb2.CREDIT_TRANSFER_STATUS_SUCCEEDED
    assert (moved.wallet.available, moved.wallet.credit_used, moved.wallet.credit_available) == (
        "3000.00",
        "3000.00",
        "2000.00",
    )
    with pytest.raises(grpc.RpcError) as over:
        wallets.CreateCreditTransfer(
            money_pb2.CreateCreditTransferRequest(
                workspace="c2b", client="client-1", transfer_id="t-2", amount="2000.01"
            ),
            metadata=meta,
        )
    assert over.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_code(over.value) == "credit_limit_exceeded"


def test_bad_inn_and_other_workspaces_over_grpc(stubs, money, service_key):
    payers, *_ = stubs
    money.register()
    bad = moneyin_pb2.PayerFields(
        **{**{f.name: getattr(PAYER, f.name) for f in PAYER.DESCRIPTOR.fields}, "inn": "7707083894"}
    )
    with pytest.raises(grpc.RpcError) as refused:
        payers.PutPayer(
            moneyin_pb2.PutPayerRequest(workspace="c2b", client="client-1", payer_id="p", payer=bad),
            metadata=[("authorization", f"Bearer {service_key}")],
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    make_workspace("autoru", balance_service_id=1003)
    with pytest.raises(grpc.RpcError) as hidden:
        payers.GetPayer(
            moneyin_pb2.GetPayerRequest(workspace="c2b", client="client-1", payer_id="p"),
            metadata=[("authorization", f"Bearer {make_api_key('autoru')}")],
        )
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
