"""billy.v1.WalletService and billy.v1.ChargeService: the HTTP money operations over gRPC."""

from __future__ import annotations

from billy.charges import batch, coalesce
from billy.charges import operations as charge_operations
from billy.charges import queries as charge_queries
from billy.charges.models import Charge, Refund
from billy.clients.queries import get_client
from billy.core import clock
from billy.core.errors import Forbidden, ValidationFailed
from billy.core.money import format_amount, parse_amount_field
from billy.integrations.balance import get_balance
from billy.ledger import operations as ledger_operations
from billy.ledger import queries as ledger_queries
from billy.moneyin import credit as credit_operations
from billy.v1 import money_pb2, money_pb2_grpc
from billy.workspaces.models import ApiKey
from billy.workspaces.queries import get_workspace_for

from .arguments import datetime_argument
from .clients import timestamp
from .enums import enum_number, enum_value
from .interceptor import current_principal


def _client(request):
    workspace = get_workspace_for(current_principal(), request.workspace)
    return workspace, get_client(workspace=workspace, service_client_id=request.client, related=("wallet",))


def _optional(message, field: str):
    return getattr(message, field) if message.HasField(field) else None


def wallet_message(view: ledger_queries.WalletView) -> money_pb2.Wallet:
    return money_pb2.Wallet(
        currency=view.currency,
        balance=format_amount(view.balance),
        held=format_amount(view.held),
        available=format_amount(view.available),
        credit_limit=format_amount(view.credit_limit),
        credit_used=format_amount(view.credit_used),
        credit_available=format_amount(view.credit_available),
    )


def refund_message(refund: Refund, charge: Charge) -> money_pb2.Refund:
    return money_pb2.Refund(
        refund_id=refund.refund_id,
        charge_id=charge.charge_id,
        amount=format_amount(refund.amount),
        currency=charge.currency,
        reason=refund.reason,
        created_at=timestamp(refund.created_at),
    )


def charge_message(charge: Charge) -> money_pb2.Charge:
    return money_pb2.Charge(
        charge_id=charge.charge_id,
        client=charge.client.service_client_id,
        product=charge.product,
        amount=format_amount(charge.amount),
        currency=charge.currency,
        status=enum_number(money_pb2.ChargeStatus, charge.status),
        hold=charge.hold,
        captured_amount=format_amount(charge.captured),
        refunded_amount=format_amount(charge.refunded),
        hold_expires_at=timestamp(charge.hold_expires_at),
        cancel_reason=enum_number(money_pb2.CancelReason, charge.cancel_reason),
        description=charge.description,
        created_at=timestamp(charge.created_at),
        updated_at=timestamp(charge.updated_at),
        refunds=[refund_message(r, charge) for r in charge.refunds.all()] if charge.refunded else [],
    )


def _charge_request(request) -> charge_operations.ChargeRequest:
    return charge_operations.ChargeRequest(
        charge_id=request.charge_id,
        product=request.product,
        amount=parse_amount_field("amount", request.amount),
        currency=_optional(request, "currency"),
        hold=request.hold,
        hold_ttl_seconds=_optional(request, "hold_ttl_seconds"),
        description=request.description,
    )


class WalletServicer(money_pb2_grpc.WalletServiceServicer):
    def GetWallet(self, request, context):  # noqa: N802
        _, client = _client(request)
        return wallet_message(ledger_queries.get_wallet(client=client))

    def ListWalletTransactions(self, request, context):  # noqa: N802
        _, client = _client(request)
        items, next_cursor = ledger_queries.list_wallet_transactions(
            client=client, limit=request.limit or 50, cursor=request.cursor or None
        )
        return money_pb2.ListWalletTransactionsResponse(
            transactions=[
                money_pb2.WalletTransaction(
                    id=t.id,
                    kind=enum_number(money_pb2.TransactionKind, t.kind),
                    amount=format_amount(t.amount),
                    currency=t.currency,
                    description=t.description,
                    created_at=timestamp(t.created_at),
                )
                for t in items
            ],
            next_cursor=next_cursor or "",
        )

    def AdjustWallet(self, request, context):  # noqa: N802
        principal = current_principal()
        if principal.role != ApiKey.Role.OPERATOR:
            raise Forbidden("Adjustments need an operator API key.")
        _, client = _client(request)
        adjustment, created = ledger_operations.adjust_wallet(
            client=client,
            adjustment_id=request.adjustment_id,
            amount=parse_amount_field("amount", request.amount, signed=True),
            reason=request.reason,
            actor=f"api key {principal.name}",
            now=clock.now(),
        )
        return money_pb2.AdjustWalletResponse(
            adjustment_id=adjustment.adjustment_id,
            amount=format_amount(adjustment.amount),
            currency=adjustment.currency,
            created=created,
            wallet=wallet_message(ledger_queries.get_wallet(client=client)),
            client=client.service_client_id,
            reason=adjustment.reason,
            created_by=adjustment.created_by,
            created_at=timestamp(adjustment.created_at),
        )

    def CreateCreditTransfer(self, request, context):  # noqa: N802
        _, client = _client(request)
        result = credit_operations.create_credit_transfer(
            client=client,
            transfer_id=request.transfer_id,
            amount=parse_amount_field("amount", request.amount),
            balance=get_balance(),
            now=clock.now(),
        )
        transfer = result.transfer
        return money_pb2.CreateCreditTransferResponse(
            transfer=money_pb2.CreditTransfer(
                transfer_id=transfer.transfer_id,
                client=client.service_client_id,
                amount=format_amount(transfer.amount),
                currency=transfer.currency,
                status=enum_number(money_pb2.CreditTransferStatus, transfer.status),
                created_at=timestamp(transfer.created_at),
                updated_at=timestamp(transfer.updated_at),
            ),
            created=result.created,
            wallet=wallet_message(ledger_queries.get_wallet(client=client)),
        )


class ChargeServicer(money_pb2_grpc.ChargeServiceServicer):
    def CreateCharge(self, request, context):  # noqa: N802
        _, client = _client(request)
        charge, created = coalesce.post_charge(client=client, request=_charge_request(request), now=clock.now())
        return money_pb2.CreateChargeResponse(charge=charge_message(charge), created=created)

    def CreateCharges(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        items = []
        for item in request.charges:
            try:
                items.append(batch.BatchItem(service_client_id=item.client, request=_charge_request(item)))
            except ValidationFailed as e:  # this item only, as the HTTP batch answers it
                items.append(batch.UnreadableItem(charge_id=item.charge_id, error=e))
        results = [
            money_pb2.ChargeResult(
                status=r.status,
                charge_id=r.charge_id,
                charge=charge_message(r.charge) if r.charge else None,
                error_code=r.error.code if r.error else "",
                error_message=r.error.message if r.error else "",
            )
            for r in batch.post_charges(workspace=workspace, items=items, now=clock.now())
        ]
        return money_pb2.CreateChargesResponse(results=results)

    def GetCharge(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        return charge_message(charge_queries.get_charge(workspace=workspace, charge_id=request.charge_id))

    def ListCharges(self, request, context):  # noqa: N802
        workspace, client = _client(request)
        charges, next_cursor = charge_queries.list_charges(
            workspace=workspace,
            client=client,
            limit=request.limit or 50,
            cursor=request.cursor or None,
            product=request.product or None,
            status=enum_value(money_pb2.ChargeStatus, request.status, field="status"),
            created_from=datetime_argument(request, "from"),
            created_to=datetime_argument(request, "to"),
        )
        return money_pb2.ListChargesResponse(
            charges=[charge_message(c) for c in charges], next_cursor=next_cursor or ""
        )

    def ConfirmCharge(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        charge = charge_operations.confirm_charge(
            workspace=workspace,
            charge_id=request.charge_id,
            amount=parse_amount_field("amount", _optional(request, "amount")),
            now=clock.now(),
        )
        return charge_message(charge)

    def CancelCharge(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        return charge_message(
            charge_operations.cancel_charge(workspace=workspace, charge_id=request.charge_id, now=clock.now())
        )

    def RefundCharge(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        refund, created = charge_operations.refund_charge(
            workspace=workspace,
            charge_id=request.charge_id,
            refund_id=request.refund_id,
            amount=parse_amount_field("amount", _optional(request, "amount")),
            reason=request.reason,
            now=clock.now(),
        )
        return money_pb2.RefundChargeResponse(refund=refund_message(refund, refund.charge), created=created)
