"""Every difference reconciliation finds has its amount and its reason: a change made in Balance
behind billy's back, a report lost while Balance was down (gone after catch-up), a late report."""

from __future__ import annotations

from billy.consumption.models import OrderReport

from .conftest import msk


def test_a_consumption_changed_in_balance_behind_billy_back_is_changed_in_balance(books):
    books.charge("c1", 100_00, msk(11, 10))
    books.report(msk(11, 10, 13))
    books.set_balance_clock(msk(11, 15))
    books.control.set_consumption(books.order()["OrderID"], "130.00")
    books.control.close_month("2026-11")

    _, line = books.reconcile("2026-11", msk(12, 1, 9))

    assert (line.ledger, line.reported, line.act) == (100_00, 100_00, 130_00)
    assert (line.reported_total, line.balance_total) == (100_00, 130_00)
    assert line.differences == [{"reason": "CHANGED_IN_BALANCE", "amount": -30_00}]


def test_a_report_lost_while_balance_was_down_is_not_yet_reported_until_caught_up(books):
    books.charge("c1", 100_00, msk(11, 10))
    books.report(msk(11, 10, 13))
    books.control.inject("unavailable", count=1000, method="UpdateCampaigns")
    books.charge("c2", 50_00, msk(11, 20))
    assert books.report(msk(11, 20, 13)).error.startswith("BalanceUnavailable")

    run, line = books.reconcile("2026-11", msk(12, 1, 1))
    assert (line.ledger, line.reported, line.act) == (150_00, 100_00, None)
    assert line.differences == [
        {"reason": "NOT_YET_REPORTED", "amount": 50_00},
        {"reason": "MISSING_ACT", "amount": 100_00},  # Balance has not closed the month yet
    ]
    assert run.mismatches == 1

    books.control.clear_faults()
    assert books.report(msk(12, 1, 2)).accepted == 1  # as of November's last second
    books.control.close_month("2026-11")
    run, line = books.reconcile("2026-11", msk(12, 1, 3))
    assert (line.ledger, line.reported, line.act, line.differences) == (150_00, 150_00, 150_00, [])
    assert run.mismatches == 0


def test_a_report_sent_after_balance_closed_the_month_is_reported_late_into_the_next_act(books):
    books.charge("c1", 100_00, msk(11, 10))
    books.report(msk(11, 10, 13))
    books.charge("c2", 20_00, msk(11, 30, 23))
    books.control.close_month("2026-11")  # before billy reported c2
    books.report(msk(12, 1, 0, 5))
    books.charge("c3", 30_00, msk(12, 10))
    books.report(msk(12, 10, 13))
    books.control.close_month("2026-12")

    _, november = books.reconcile("2026-11", msk(12, 31, 9))
    _, december = books.reconcile("2026-12", msk(12, 31, 9))

    assert (november.ledger, november.reported, november.act) == (120_00, 120_00, 100_00)
    assert november.differences == [{"reason": "REPORTED_LATE", "amount": 20_00}]
    assert (december.ledger, december.reported, december.act) == (30_00, 30_00, 50_00)
    assert december.differences == [{"reason": "REPORTED_LATE", "amount": -20_00}]


def test_balance_refuses_a_decrease_and_the_total_waits_until_it_moves_again(books):
    books.charge("c1", 100_00, msk(11, 10))
    books.report(msk(11, 10, 13))
    books.refund("c1", 40_00, msk(11, 11))
    run = books.report(msk(11, 11, 13))
    assert (run.accepted, run.refused) == (0, 1)
    assert books.report(msk(11, 11, 14)).orders == 0  # not sent again while the total stays
    books.charge("c2", 50_00, msk(11, 12))
    assert books.report(msk(11, 12, 13)).accepted == 1
    order = OrderReport.objects.get(wallet__client=books.client)
    assert (order.reported_total, order.refused_total, order.last_error) == (110_00, None, "")


def test_a_refund_balance_refused_to_take_off_is_decrease_refused_not_not_yet_reported(books):
    books.set_balance_clock(msk(11, 10))
    books.charge("c1", 100_00, msk(11, 10))
    books.report(msk(11, 10, 13))
    books.refund("c1", 40_00, msk(11, 11))
    assert books.report(msk(11, 11, 13)).refused == 1

    _, line = books.reconcile("2026-11", msk(11, 12))

    assert (line.ledger, line.reported) == (60_00, 100_00)
    assert line.differences[0] == {"reason": "DECREASE_REFUSED", "amount": -40_00}
    assert "NOT_YET_REPORTED" not in [d["reason"] for d in line.differences]
