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
    assert line["differences"] == [{"reason": "REPORTED_LATE", "amount": "20.00"}]


def test_bad_months_and_days_are_refused_with_their_codes(books, money):
    assert money.get("/reconciliations/2026-13").json()["error"]["code"] == "invalid_month"
    assert money.get("/reconciliations/2026-09").json()["error"]["code"] == "reconciliation_not_found"
    assert money.get("/clients/client-1/acts?from=2026-02-30").json()["error"]["code"] == "validation_failed"
    assert money.get("/clients/nobody/acts").json()["error"]["code"] == "client_not_found"


def test_months_outside_the_years_2000_to_2999_and_a_reversed_period_are_refused(books, money):
    for month in ("0000-01", "0001-01", "1999-12", "9999-12"):
        response = money.get(f"/reconciliations/{month}")
        assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_month"), month
    reversed_period = money.get("/clients/client-1/acts?from=2026-12-01&to=2026-11-01")
    assert (reversed_period.status_code, reversed_period.json()["error"]["code"]) == (422, "invalid_period")
    assert money.get("/clients/client-1/acts?cursor=bm9wZQ").json()["error"]["code"] == "validation_failed"


def test_the_acts_list_pages_newest_first(books, money):
    for month, day in (("2026-09", 10), ("2026-10", 10), ("2026-11", 10)):
        books.charge(f"c-{month}", 10_00, msk(int(month[-2:]), day))
        books.report(msk(int(month[-2:]), day, 13))
        books.control.close_month(month)
    books.reconcile("2026-11", msk(12, 1, 9))
    books.reconcile("2026-09", msk(12, 1, 9))
    books.reconcile("2026-10", msk(12, 1, 9))

    first = money.get("/clients/client-1/acts?limit=2").json()
    second = money.get(f"/clients/client-1/acts?limit=2&cursor={first['next_cursor']}").json()

    assert [a["act_date"] for a in first["acts"]] == ["2026-11-30", "2026-10-31"]
    assert [a["act_date"] for a in second["acts"]] == ["2026-09-30"]
    assert second["next_cursor"] is None
