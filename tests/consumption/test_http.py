"""Acts and reconciliations over HTTP."""

from __future__ import annotations

from .conftest import msk


def test_the_client_acts_are_listed_by_date_and_a_reconciliation_by_month(books, money):
    books.charge("c1", 100_00, msk(10, 10))
    books.report(msk(10, 10, 13))
    books.control.close_month("2026-10")
    books.charge("c2", 20_00, msk(11, 30, 23))
    books.control.close_month("2026-11")  # before billy reported c2: its report is late
    books.report(msk(12, 1, 0, 5))
    books.reconcile("2026-10", msk(12, 1, 9))
    books.reconcile("2026-11", msk(12, 1, 9))

    all_acts = money.get("/clients/client-1/acts").json()["acts"]
    october = money.get("/clients/client-1/acts?from=2026-10-01&to=2026-11-01").json()["acts"]
    november = money.get("/reconciliations/2026-11")

    assert [(a["act_date"], a["amount"], a["vat"]) for a in all_acts] == [("2026-10-31", "100.00", "16.67")]
    assert [a["number"] for a in october] == [all_acts[0]["number"]]
    assert november.status_code == 200
    body = november.json()
    assert (body["month"], body["clients"], body["mismatches"], body["ledger_total"]) == ("2026-11", 1, 1, "20.00")
    (line,) = body["lines"]
    assert (line["client"], line["ledger"], line["reported"], line["act"]) == ("client-1", "20.00", "20.00", None)
    assert line["differences"] == [{"reason": "reported_late", "amount": "20.00"}]


def test_bad_months_and_days_are_refused_with_their_codes(books, money):
    assert money.get("/reconciliations/2026-13").json()["error"]["code"] == "invalid_month"
    assert money.get("/reconciliations/2026-09").json()["error"]["code"] == "reconciliation_not_found"
    assert money.get("/clients/client-1/acts?from=2026-02-30").json()["error"]["code"] == "validation_failed"
    assert money.get("/clients/nobody/acts").json()["error"]["code"] == "client_not_found"
