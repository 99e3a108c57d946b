"""billy.v1.ActService and ReconciliationService: acts and reconciliations over gRPC, as over HTTP."""

from __future__ import annotations

from billy.consumption import queries
from billy.consumption.models import Act, Reconciliation, ReconciliationLine
from billy.consumption.months import parse_month
from billy.core.money import format_amount
from billy.core.pagination import MAX_LIMIT, check_limit, decode_id_cursor, encode_id_cursor
from billy.v1 import consumption_pb2, consumption_pb2_grpc
from billy.workspaces.queries import get_workspace_for

from .clients import timestamp
from .interceptor import current_principal
from .moneyin import client_in_request, parse_day


def act_message(act: Act) -> consumption_pb2.Act:
    return consumption_pb2.Act(
        act_id=act.balance_act_id,
        number=act.number,
        act_date=act.act_date.isoformat(),
        amount=format_amount(act.amount),
        vat=format_amount(act.vat),
        currency=act.currency,
        contract_number=act.balance_contract_id,
        order_id=act.order_id,
    )


def line_message(line: ReconciliationLine) -> consumption_pb2.ReconciliationLine:
    message = consumption_pb2.ReconciliationLine(
        client=line.client.service_client_id,
        order_id=line.order_id,
        ledger=format_amount(line.ledger),
        reported=format_amount(line.reported),
        reported_total=format_amount(line.reported_total),
        differences=[
            consumption_pb2.Difference(reason=d["reason"], amount=format_amount(d["amount"])) for d in line.differences
        ],
    )
    if line.act is not None:
        message.act = format_amount(line.act)
    if line.balance_total is not None:
        message.balance_consumed_total = format_amount(line.balance_total)
    return message


class ActServicer(consumption_pb2_grpc.ActServiceServicer):
    def ListActs(self, request, context):  # noqa: N802
        client = client_in_request(request)
        acts = queries.client_acts(
            client=client,
            date_from=parse_day("date_from", request.date_from) if request.date_from else None,
            date_to=parse_day("date_to", request.date_to) if request.date_to else None,
        )
        return consumption_pb2.ListActsResponse(acts=[act_message(a) for a in acts])


class ReconciliationServicer(consumption_pb2_grpc.ReconciliationServiceServicer):
    def GetReconciliation(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        run: Reconciliation = queries.get_reconciliation(workspace=workspace, month=parse_month(request.month))
        limit = check_limit(request.limit or 100, MAX_LIMIT)
        lines = queries.mismatches(reconciliation=run, limit=limit, after=decode_id_cursor(request.cursor or None) or 0)
        return consumption_pb2.Reconciliation(
            month=f"{run.month:%Y-%m}",
            currency=run.currency,
            clients=run.clients,
            mismatches=run.mismatches,
            ledger_total=format_amount(run.ledger_total),
            reported_total=format_amount(run.reported_total),
            act_total=format_amount(run.act_total),
            reconciled_at=timestamp(run.created_at),
            lines=[line_message(line) for line in lines],
            next_cursor=encode_id_cursor(lines[-1].pk) if len(lines) == limit else "",
        )
