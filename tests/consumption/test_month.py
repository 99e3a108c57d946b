"""A month end to end: charges, a hold confirmed after the boundary and a refund in the next month,
consumption reported, Balance closes the months, the acts equal billy's monthly consumption to the
kopeck, and reconciliation finds nothing."""

from __future__ import annotations

from billy.consumption.models import Act, OrderReport

from .conftest import msk


def test_each_month_act_equals_billy_monthly_consumption_and_reconciliation_finds_nothing(books):
    books.set_balance_clock(msk(11, 5))
    books.charge("c1", 1_234_56, msk(11, 5))
    books.charge("c2", 10_00, msk(11, 20))
    assert books.report(msk(11, 20, 12, 1)).accepted == 1
    books.charge("c3", 99_01, msk(11, 30, 23, 59, 59))  # the month's last second
    books.charge("hold", 500_00, msk(11, 29), hold=True)
    books.confirm("hold", msk(12, 1, 0, 0, 1))  # counts in December, when confirmed
    books.refund("c1", 34_56, msk(12, 3))  # counts in December, when made
    books.charge("c4", 7_77, msk(12, 4))
    run = books.report(msk(12, 5))
    assert (run.accepted, run.error) == (2, "")  # November's total as of its last second, then the latest
    books.set_balance_clock(msk(12, 31, 23))
    november = books.control.close_month("2026-11")["acts"]
    december = books.control.close_month("2026-12")["acts"]

    assert [a["Amount"] for a in november] == ["1343.57"]  # 1234.56 + 10.00 + 99.01
    assert [a["Amount"] for a in december] == ["473.21"]  # 500.00 - 34.56 + 7.77
    report = OrderReport.objects.get(wallet__client=books.client)
    assert report.reported_total == report.wallet.net_consumption == 1_343_57 + 473_21
    for month, amount in (("2026-11", 1_343_57), ("2026-12", 473_21)):
        run, line = books.reconcile(month, msk(12, 31, 23, 30))
        assert (line.ledger, line.reported, line.act, line.differences) == (amount, amount, amount, [])
        assert (run.mismatches, run.clients) == (0, 1)
    assert Act.objects.filter(client=books.client).count() == 2
