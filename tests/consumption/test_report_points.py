"""What a run reports and when: as of its cutoff (now less the grace period), a month end only once
the cutoff is past it, every total read in one statement."""

from __future__ import annotations

import datetime as dt

from billy.consumption import reporting
from billy.consumption.models import OrderReport, Report
from billy.integrations.balance.emulator import books as balance_books
from billy.integrations.balance.emulator.state import month_bounds
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS

from .conftest import Books, msk


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


def test_a_month_end_whose_answer_was_lost_is_sent_again_alone_and_accepted(books):
    books.set_balance_clock(msk(12, 5))
    books.charge("november", 100_00, msk(11, 20))
    books.charge("december", 50_00, msk(12, 2))
    books.control.inject("commit_then_timeout", method="UpdateCampaigns", seconds=COMMIT_THEN_TIMEOUT_SECONDS)

    lost = books.report(msk(12, 5))
    assert lost.error.startswith("BalanceOutcomeUnknown")
    (unknown,) = Report.objects.filter(code=reporting.UNKNOWN)
    assert (unknown.consumed_total, unknown.as_of) == (100_00, msk(11, 30, 23, 59, 59))
    run = books.report(msk(12, 5, 13))

    assert (run.error, run.refused) == ("", 0)
    assert list(Report.objects.exclude(pk=unknown.pk).order_by("id").values_list("consumed_total", "code")) == [
        (100_00, "SUCCESS"),
        (150_00, "SUCCESS"),
    ]
    assert books.order_total() == 150_00


def test_a_refused_decrease_adopts_balance_total_when_it_is_one_billy_sent(books):
    books.set_balance_clock(msk(12, 5))
    books.charge("c1", 100_00, msk(12, 2))
    books.control.inject("commit_then_timeout", method="UpdateCampaigns", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    assert books.report(msk(12, 3)).error.startswith("BalanceOutcomeUnknown")
    books.refund("c1", 30_00, msk(12, 4))

    run = books.report(msk(12, 5))

    assert run.refused == 1
    order = OrderReport.objects.get(wallet__client=books.client)
    assert (order.reported_total, order.refused_total, books.order_total()) == (100_00, 70_00, 100_00)
    assert books.report(msk(12, 6)).orders == 0  # the refused decrease waits until the total moves


def _three_clients(money, balance_control) -> list[Books]:
    clients = []
    for n in range(3):
        money.register(f"bisect-{n}")
        money.add_payer(f"bisect-{n}")
        money.add_contract(f"bisect-{n}")
        books = Books(balance_control, f"bisect-{n}")
        books.fund(1_000_00, msk(11, 1))
        books.charge(f"b{n}", (n + 1) * 10_00, msk(12, 2))
        clients.append(books)
    return clients


def test_a_call_balance_refuses_whole_is_split_down_to_the_order_and_the_run_goes_on(money, balance_control):
    clients = _three_clients(money, balance_control)
    balance_control.inject("fault", method="UpdateCampaigns", code="INVALID_PARAM", count=2)
    calls_before = len(balance_control.calls("UpdateCampaigns"))

    run = clients[0].report(msk(12, 3))

    # [a, b, c] and [a] are refused; [b, c] goes through, then [a] again (answered as a refusal).
    refused = OrderReport.objects.get(wallet__client=clients[0].client)
    assert run.error == ""
    assert [b.order_total() for b in clients] == [0, 20_00, 30_00]
    assert refused.last_error.startswith("INVALID_PARAM") and refused.retry_at is not None
    assert len(balance_control.calls("UpdateCampaigns")) - calls_before == 3


def test_an_order_balance_does_not_know_is_tried_again_later_each_time_not_every_run(money, balance_control):
    clients = _three_clients(money, balance_control)
    reporting.bind_orders(now=msk(12, 3))
    OrderReport.objects.filter(wallet__client=clients[1].client).update(order_id=987_654_321)
    run = clients[0].report(msk(12, 3))
    assert (run.accepted, run.refused) == (2, 1)

    for minute in range(1, 4):
        clients[0].report(msk(12, 3, 12, minute))
    unknown = Report.objects.filter(order_id=987_654_321)
    # Tried at 12:00, then after a minute and two more (12:01 and 12:03), never at 12:02.
    assert [r.as_of.astimezone(msk(12, 3).tzinfo).minute for r in unknown.order_by("id")] == [0, 1, 3]
    assert set(unknown.values_list("code", flat=True)) == {"ORDER_NOT_FOUND"}
    assert [b.order_total() for b in (clients[0], clients[2])] == [10_00, 30_00]
