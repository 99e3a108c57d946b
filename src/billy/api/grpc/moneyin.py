"""billy.v1.PayerService, ContractService and InvoiceService: money in over gRPC, as over HTTP."""

from __future__ import annotations

import contextlib
import datetime as dt

from billy.clients.queries import get_client
from billy.core import clock
from billy.core.errors import ValidationFailed
from billy.core.money import format_amount, parse_amount_field
from billy.integrations.balance import get_balance
from billy.moneyin import invoices as invoice_operations
from billy.moneyin import queries as moneyin_queries
from billy.moneyin.models import Invoice
from billy.payers import contracts as contract_operations
from billy.payers import operations as payer_operations
from billy.payers import queries as payer_queries
from billy.payers.models import Contract, Payer
from billy.payers.validation import PayerFields
from billy.v1 import moneyin_pb2, moneyin_pb2_grpc
from billy.workspaces.queries import get_workspace_for

from .clients import timestamp
from .enums import enum_number, enum_value
from .interceptor import current_principal


def client_in_request(request):
    workspace = get_workspace_for(current_principal(), request.workspace)
    return get_client(workspace=workspace, service_client_id=request.client)


def _optional(message, field: str):
    return getattr(message, field) if message.HasField(field) else None


def parse_day(field: str, text: str) -> dt.date:
    with contextlib.suppress(ValueError):
        if len(text) == 10:
            return dt.date.fromisoformat(text)
    raise ValidationFailed({field: ["A calendar day, YYYY-MM-DD."]})


def payer_message(payer: Payer, client: str) -> moneyin_pb2.Payer:
    return moneyin_pb2.Payer(
        payer_id=payer.payer_id,
        client=client,
        fields=moneyin_pb2.PayerFields(
            type=enum_number(moneyin_pb2.PayerType, payer.type),
            name=payer.name,
            long_name=payer.long_name,
            inn=payer.inn,
            kpp=payer.kpp,
            email=payer.email,
            phone=payer.phone,
            legal_address=payer.legal_address,
            postal_address=payer.postal_address,
            bik=payer.bik,
            bank_account=payer.bank_account,
        ),
        status=enum_number(moneyin_pb2.PayerStatus, payer.status),
        created_at=timestamp(payer.created_at),
        updated_at=timestamp(payer.updated_at),
    )


def contract_message(contract: Contract, client: str) -> moneyin_pb2.Contract:
    return moneyin_pb2.Contract(
        contract_id=contract.contract_id,
        client=client,
        payer_id=contract.payer.payer_id,
        payment_type=enum_number(moneyin_pb2.PaymentType, contract.payment_type),
        currency=contract.currency,
        credit_limit=format_amount(contract.credit_limit),
        payment_term_days=contract.payment_term_days or 0,
        start_date=contract.start_date.isoformat(),
        status=enum_number(moneyin_pb2.ContractStatus, contract.status),
        number=contract.number,
        personal_account_number=contract.personal_account_number,
        created_at=timestamp(contract.created_at),
        updated_at=timestamp(contract.updated_at),
    )


def invoice_message(invoice: Invoice, client: str) -> moneyin_pb2.Invoice:
    return moneyin_pb2.Invoice(
        invoice_id=invoice.invoice_id,
        client=client,
        kind=enum_number(moneyin_pb2.InvoiceKind, invoice.kind),
        number=invoice.number,
        amount=format_amount(invoice.amount),
        paid_amount=format_amount(invoice.paid_amount),
        currency=invoice.currency,
        status=enum_number(moneyin_pb2.InvoiceStatus, invoice.status),
        payment_url=invoice.payment_url,
        payer_id=invoice.payer.payer_id,
        contract_id=invoice.contract.contract_id,
        created_at=timestamp(invoice.created_at),
        updated_at=timestamp(invoice.updated_at),
    )


class PayerServicer(moneyin_pb2_grpc.PayerServiceServicer):
    def PutPayer(self, request, context):  # noqa: N802
        client = client_in_request(request)
        given = request.payer
        result = payer_operations.put_payer(
            client=client,
            payer_id=request.payer_id,
            fields=PayerFields(
                type=enum_value(moneyin_pb2.PayerType, given.type, field="payer.type") or "",
                name=given.name,
                inn=given.inn,
                email=given.email,
                phone=given.phone,
                legal_address=given.legal_address,
                long_name=given.long_name,
                kpp=given.kpp,
                postal_address=given.postal_address,
                bik=given.bik,
                bank_account=given.bank_account,
            ),
            balance=get_balance(),
            now=clock.now(),
        )
        return moneyin_pb2.PutPayerResponse(
            payer=payer_message(result.payer, client.service_client_id), created=result.created
        )

    def GetPayer(self, request, context):  # noqa: N802
        client = client_in_request(request)
        return payer_message(payer_queries.get_payer(client=client, payer_id=request.payer_id), request.client)

    def ListPayers(self, request, context):  # noqa: N802
        client = client_in_request(request)
        payers, next_cursor = payer_queries.list_payers(
            client=client, limit=request.limit or 50, cursor=request.cursor or None
        )
        return moneyin_pb2.ListPayersResponse(
            payers=[payer_message(p, request.client) for p in payers], next_cursor=next_cursor or ""
        )


class ContractServicer(moneyin_pb2_grpc.ContractServiceServicer):
    def PutContract(self, request, context):  # noqa: N802
        client = client_in_request(request)
        result = contract_operations.put_contract(
            client=client,
            contract_id=request.contract_id,
            terms=contract_operations.ContractTerms(
                payer_id=request.payer_id,
                payment_type=enum_value(moneyin_pb2.PaymentType, request.payment_type, field="payment_type") or "",
                start_date=parse_day("start_date", request.start_date),
                currency=_optional(request, "currency"),
                credit_limit=parse_amount_field("credit_limit", _optional(request, "credit_limit")),
                payment_term_days=_optional(request, "payment_term_days"),
            ),
            balance=get_balance(),
            now=clock.now(),
        )
        return moneyin_pb2.PutContractResponse(
            contract=contract_message(result.contract, request.client), created=result.created
        )

    def GetContract(self, request, context):  # noqa: N802
        client = client_in_request(request)
        contract = payer_queries.get_contract(client=client, contract_id=request.contract_id)
        return contract_message(contract, request.client)

    def ListContracts(self, request, context):  # noqa: N802
        client = client_in_request(request)
        contracts, next_cursor = payer_queries.list_contracts(
            client=client, limit=request.limit or 50, cursor=request.cursor or None
        )
        return moneyin_pb2.ListContractsResponse(
            contracts=[contract_message(c, request.client) for c in contracts], next_cursor=next_cursor or ""
        )


class InvoiceServicer(moneyin_pb2_grpc.InvoiceServiceServicer):
    def CreateInvoice(self, request, context):  # noqa: N802
        client = client_in_request(request)
        result = invoice_operations.create_invoice(
            client=client,
            invoice_id=request.invoice_id,
            amount=parse_amount_field("amount", request.amount),
            payer_id=_optional(request, "payer_id"),
            balance=get_balance(),
            now=clock.now(),
        )
        return moneyin_pb2.CreateInvoiceResponse(
            invoice=invoice_message(result.invoice, request.client), created=result.created
        )

    def GetInvoice(self, request, context):  # noqa: N802
        client = client_in_request(request)
        return invoice_message(
            moneyin_queries.get_invoice(client=client, invoice_id=request.invoice_id), request.client
        )

    def ListInvoices(self, request, context):  # noqa: N802
        client = client_in_request(request)
        invoices, next_cursor = moneyin_queries.list_invoices(
            client=client,
            limit=request.limit or 50,
            cursor=request.cursor or None,
            kind=enum_value(moneyin_pb2.InvoiceKind, request.kind, field="kind"),
            status=enum_value(moneyin_pb2.InvoiceStatus, request.status, field="status"),
        )
        return moneyin_pb2.ListInvoicesResponse(
            invoices=[invoice_message(i, request.client) for i in invoices], next_cursor=next_cursor or ""
        )
