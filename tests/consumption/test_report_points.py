"""What a run reports and when: as of its cutoff (now less the grace period), a month end only once
the cutoff is past it, every total read in one statement."""

from __future__ import annotations

import datetime as dt

from billy.consumption import reporting
from billy.consumption.models import Report
from billy.integrations.balance.emulator import books as balance_books
from billy.integrations.balance.emulator.state import month_bounds

from .conftest import msk


def test_a_charge_posted_at_the_months_last_moment_and_committed_after_a_run_counts_in_that_month(
    books, balance_emulator
):
    books.set_balance_clock(msk(11, 30))
    books.charge("early", 10_00, msk(11, 30, 12))
    # A run just after midnight: its cutoff is still in November, so November is not closed yet.
    run = reporting.report_consumption(balance=books.balance, now=msk(12, 1, 0, 0, 5))
    assert run.error == ""
    assert all(r.as_of <= reporting.cutoff(msk(12, 1, 0, 0, 5)) for r in Report.objects.all())
    # A charge its caller dated at November's last moment commits only now.
    books.charge("late", 5_00, msk(11, 30, 23, 59, 59) + dt.timedelta(milliseconds=500))
    books.charge("december", 1_00, msk(12, 1, 0, 2))
    books.report(msk(12, 1, 0, 10))

    state = balance_emulator.state.table("orders")[books.order()["OrderID"]]
    november_end = month_bounds("2026-11")[1]
    assert balance_books.consumed_as_of(state, november_end) == 15_00
    assert books.order_total() == 16_00
