"""CSV export of charges and ledger transactions: the rows of the list's current filter, decimals
with currency, streamed; text that a spreadsheet would run as a formula is defused."""

from __future__ import annotations

import csv
import io

from billy.core import admin_export
from billy.core.admin_export import safe_cell
from tests.console.conftest import charge


def rows(answer) -> list[dict]:
    assert answer.status_code == 200
    assert answer.streaming  # written row by row as the cursor reads, never built whole in memory
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))


def test_charges_export_follows_the_lists_filter(operator, history):
    exported = rows(operator.get("/admin/charges/charge/export.csv", {"status__exact": "COMPLETED"}))

    assert [
        (r["charge_id"], r["client"], r["amount"], r["captured"], r["refunded"], r["currency"]) for r in exported
    ] == [("order-1", "client-1", "120.00", "120.00", "20.00", "RUB")]


def test_charges_export_follows_the_search_and_date_drilldown(operator, history):
    searched = rows(operator.get("/admin/charges/charge/export.csv", {"q": "order-2"}))
    by_day = rows(
        operator.get("/admin/charges/charge/export.csv", {"created_at__day": "23", "created_at__month": "11"})
    )

    assert [r["charge_id"] for r in searched] == ["order-2"]
    assert sorted(r["charge_id"] for r in by_day) == ["order-1", "order-2"]


def test_the_list_page_links_to_the_export_of_its_filter(operator, history):
    html = operator.get("/admin/charges/charge/", {"status__exact": "HELD"}).content.decode()

    assert 'href="/admin/charges/charge/export.csv?status__exact=HELD"' in html


def test_an_unknown_filter_goes_back_to_the_list_as_the_list_does(operator, history):
    answer = operator.get("/admin/charges/charge/export.csv", {"no_such_field": "1"})

    assert (answer.status_code, answer["Location"]) == (302, "/admin/charges/charge/?e=1")


def test_ledger_transactions_export_has_a_row_per_entry(operator, history):
    exported = rows(operator.get("/admin/ledger/ledgertransaction/export.csv", {"kind__exact": "REFUND"}))

    assert sorted((r["kind"], r["account"], r["amount"], r["currency"]) for r in exported) == [
        ("REFUND", "revenue of c2b (RUB)", "-20.00", "RUB"),
        ("REFUND", "wallet of client-1 (RUB)", "20.00", "RUB"),
    ]
    assert {r["transaction"] for r in exported} == {str(history.refund.transaction_id)}
    assert {r["client"] for r in exported} == {"", "client-1"}


def test_an_export_of_many_chunks_is_complete(operator, history, monkeypatch):
    monkeypatch.setattr(admin_export, "CHUNK_SIZE", 10)
    for n in range(45):
        charge(history.client, f"bulk-{n}", 1)

    exported = rows(operator.get("/admin/charges/charge/export.csv", {"product": "placement"}))

    assert len({r["charge_id"] for r in exported}) == len(exported) == 47


def test_text_is_defused_and_amounts_are_not():
    assert [safe_cell(v) for v in ["=HYPERLINK(1)", "+1", "@x", "-cmd", "-12.50", "12.50", "plain", None]] == [
        "'=HYPERLINK(1)",
        "'+1",
        "'@x",
        "'-cmd",
        "-12.50",
        "12.50",
        "plain",
        "",
    ]


def test_a_description_exports_as_text(operator, history):
    charge(history.client, "formula", 1_00, description="=cmd|' /C calc'!A0")

    exported = rows(operator.get("/admin/charges/charge/export.csv", {"q": "formula"}))

    assert exported[0]["description"] == "'=cmd|' /C calc'!A0"
