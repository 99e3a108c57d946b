"""List pages and detail pages read a fixed number of queries, however many rows the tables hold
(no query per row: links, labels and amounts come with the page's own query)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billy.charges import operations as charges
from tests.charges.conftest import make_client
from tests.conftest import NOW
from tests.console.conftest import adjust, charge

LISTS = [
    "/admin/charges/charge/",
    "/admin/charges/refund/",
    "/admin/clients/client/",
    "/admin/ledger/account/",
    "/admin/ledger/ledgertransaction/",
    "/admin/ledger/entry/",
    "/admin/ledger/adjustment/",
]


def more_history(workspace, n: int, start: int) -> None:
    for i in range(start, start + n):
        client = make_client(workspace, f"extra-{i}")
        adjust(client, f"extra-{i}", 100_00)
        charge(client, f"extra-{i}", 10_00)
        charges.refund_charge(
            workspace=workspace, charge_id=f"extra-{i}", refund_id=f"extra-{i}", amount=1_00, reason="", now=NOW
        )


def count(operator, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert operator.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", LISTS)
def test_list_page_queries_do_not_grow_with_rows(operator, history, url):
    more_history(history.client.workspace, 2, 0)
    count(operator, url)  # the first page of a process also loads what Django caches
    few = count(operator, url)
    more_history(history.client.workspace, 25, 2)

    assert count(operator, url) == few <= 12


def test_detail_page_queries_do_not_grow_with_refunds_and_entries(operator, history):
    url = f"/admin/charges/charge/{history.completed.pk}/change/"
    count(operator, url)  # the first page of a process also loads what Django caches
    few = count(operator, url)
    for i in range(20):
        charges.refund_charge(
            workspace=history.client.workspace,
            charge_id="order-1",
            refund_id=f"more-{i}",
            amount=1_00,
            reason="",
            now=NOW,
        )

    assert count(operator, url) == few
