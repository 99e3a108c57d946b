"""Acts and reconciliations over gRPC against `billy grpc`: the same figures and errors as HTTP."""

from __future__ import annotations

import grpc
import pytest

from billy.v1 import consumption_pb2, consumption_pb2_grpc

from .conftest import msk


def error_code(error: grpc.RpcError) -> str:
    return dict(error.trailing_metadata()).get("billy-error-code", "")


def test_acts_and_a_reconciliation_over_grpc(books, grpc_channel, service_key):
    meta = [("authorization", f"Bearer {service_key}")]
    acts = consumption_pb2_grpc.ActServiceStub(grpc_channel)
    reconciliations = consumption_pb2_grpc.ReconciliationServiceStub(grpc_channel)
    books.charge("c1", 100_00, msk(11, 10))
    books.report(msk(11, 10, 13))
    books.charge("c2", 7_00, msk(11, 12))
    books.control.close_month("2026-11")
    books.reconcile("2026-11", msk(12, 1, 9))

    listed = acts.ListActs(
        consumption_pb2.ListActsRequest(workspace="c2b", client="client-1", date_from="2026-11-01"), metadata=meta
    ).acts
    run = reconciliations.GetReconciliation(
        consumption_pb2.GetReconciliationRequest(workspace="c2b", month="2026-11"), metadata=meta
    )

    assert [(a.act_date, a.amount) for a in listed] == [("2026-11-30", "100.00")]
    assert (run.clients, run.mismatches, run.ledger_total, run.act_total) == (1, 1, "107.00", "100.00")
    (line,) = run.lines
    assert (line.client, line.ledger, line.reported, line.act) == ("client-1", "107.00", "100.00", "100.00")
    assert [(d.reason, d.amount) for d in line.differences] == [("NOT_YET_REPORTED", "7.00")]
    with pytest.raises(grpc.RpcError) as refused:
        reconciliations.GetReconciliation(
            consumption_pb2.GetReconciliationRequest(workspace="c2b", month="2026-10"), metadata=meta
        )
    assert (refused.value.code(), error_code(refused.value)) == (grpc.StatusCode.NOT_FOUND, "reconciliation_not_found")
