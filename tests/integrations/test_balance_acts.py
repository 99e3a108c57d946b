"""Consumption, orders and acts: cumulative totals, the month close, credit invoices, credit under
concurrent deposits."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billy.core.money import prorate
from billy.integrations.balance import port
from billy.integrations.balance.client import XmlRpcBalance
from billy.integrations.balance.emulator import BalanceEmulatorControl
from billy.integrations.balance.port import BalanceCode, BalanceFault, BalanceOutcomeUnknown, PaymentType
from tests.conftest import wait_for
from tests.integrations.balance_setup import open_contract


def at(day: int, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, 12, tzinfo=dt.UTC)


def report(opened, total: int, as_of: dt.datetime) -> port.ConsumptionReport:
    return port.ConsumptionReport(order_id=opened.account.wallet_order_id, consumed_total=total, as_of=as_of)


def acts(balance, opened) -> list[port.Act]:
    return balance.get_client_acts(
        client_id=opened.client_id, date_from=dt.date(2000, 1, 1), date_to=dt.date(2100, 1, 1)
    )


def test_consumption_is_cumulative_and_a_repeat_changes_nothing(balance):
    opened = open_contract(balance)
    for _ in range(2):
        (result,) = balance.update_campaigns([report(opened, 100_000, at(15))])
        assert result == port.ConsumptionResult(opened.account.wallet_order_id, BalanceCode.SUCCESS, "")
    (info,) = balance.get_orders_info([opened.account.wallet_order_id])
    assert (info.consumed_total, info.rest) == (100_000, -100_000)


def test_a_decrease_is_refused_per_item(balance):
    first, second = open_contract(balance), open_contract(balance)
    balance.update_campaigns([report(first, 50_000, at(10))])

    results = balance.update_campaigns(
        [report(first, 49_999, at(11)), report(second, 10_000, at(11)), port.ConsumptionReport(42, 1, at(11))]
    )

    assert [(r.order_id, r.code, r.accepted) for r in results] == [
        (first.account.wallet_order_id, "CONSUMPTION_DECREASE", False),
        (second.account.wallet_order_id, "SUCCESS", True),
        (42, "ORDER_NOT_FOUND", False),
    ]
    infos = balance.get_orders_info([first.account.wallet_order_id, second.account.wallet_order_id])
    assert [i.consumed_total for i in infos] == [50_000, 10_000]


def test_update_campaigns_after_a_dropped_answer_is_sent_again_safely(balance, balance_control):
    opened = open_contract(balance)
    balance_control.inject("commit_then_timeout", method="UpdateCampaigns")
    with pytest.raises(BalanceOutcomeUnknown):
        balance.update_campaigns([report(opened, 70_000, at(12))])
    assert balance.update_campaigns([report(opened, 70_000, at(12))])[0].accepted
    assert balance.get_orders_info([opened.account.wallet_order_id])[0].consumed_total == 70_000


def test_a_month_close_forms_each_order_act_from_that_month_consumption(balance, balance_control):
    opened = open_contract(balance)
    balance.update_campaigns([report(opened, 30_000, at(10))])
    balance.update_campaigns([report(opened, 50_000, at(20))])
    balance.update_campaigns([report(opened, 80_000, at(5, month=11))])

    formed = balance_control.close_month("2026-10")

    (act,) = acts(balance, opened)
    assert [a["ActID"] for a in formed["acts"]] == [act.act_id]
    assert (act.act_date, act.amount, act.vat, act.currency) == (dt.date(2026, 10, 31), 50_000, 8_333, "RUB")
    assert (act.contract_id, act.order_id) == (opened.contract_id, opened.account.wallet_order_id)
    assert balance_control.close_month("2026-10")["acts"] == []  # a closed month forms nothing again

    balance_control.close_month("2026-11")

    assert [(a.act_date, a.amount) for a in acts(balance, opened)] == [
        (dt.date(2026, 10, 31), 50_000),
        (dt.date(2026, 11, 30), 30_000),
    ]
    november = balance.get_client_acts(
        client_id=opened.client_id,
        contract_id=opened.contract_id,
        date_from=dt.date(2026, 11, 1),
        date_to=dt.date(2026, 12, 1),
    )
    assert [a.amount for a in november] == [30_000]


def test_a_month_with_no_consumption_forms_no_act(balance, balance_control):
    opened = open_contract(balance)
    assert balance_control.close_month("2026-09")["acts"] == []
    assert acts(balance, opened) == []


def test_the_month_closes_by_itself_when_the_emulator_clock_passes_its_end(balance, balance_control):
    opened = open_contract(balance)
    now = balance_control.now()
    balance.update_campaigns([report(opened, 12_000, now)])
    next_month = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=32)).replace(day=1)

    balance_control.advance_clock((next_month - now).total_seconds() + 60)

    (act,) = wait_for(lambda: acts(balance, opened))
    assert (act.amount, act.act_date) == (12_000, (next_month - dt.timedelta(days=1)).date())


def test_a_month_close_issues_the_credit_invoice_and_repaying_it_restores_the_limit(balance, balance_control):
    opened = open_contract(balance, payment_type=PaymentType.POSTPAY, credit_limit=100_000)
    order_id = opened.account.wallet_order_id
    balance.deposit_from_credit(port.CreditDeposit(opened.contract_id, order_id, 60_000, "RUB"))
    month = balance_control.now().strftime("%Y-%m")

    (formed,) = balance_control.close_month(month)["invoices"]

    (invoice,) = balance.get_client_invoices(
        client_id=opened.client_id,
        date_from=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        date_to=dt.datetime(2100, 1, 1, tzinfo=dt.UTC),
    )
    assert (invoice.invoice_id, invoice.kind, invoice.amount) == (formed["InvoiceID"], port.InvoiceKind.CREDIT, 60_000)
    page = httpx.post(f"{balance_control.invoices()[0]['URL']}/pay", data={"amount": "600.00"}, follow_redirects=True)
    assert page.status_code == 200
    account = balance.get_personal_account(contract_id=opened.contract_id)
    assert (account.credit_used, account.credit_total, account.paid_total) == (0, 60_000, 0)
    assert balance.get_client_credit_limits(client_id=opened.client_id).limits[0].spent == 0
    assert balance_control.close_month(month)["invoices"] == []


def test_consumption_changed_behind_billys_back_shows_in_reads_and_refuses_a_lower_report(balance, balance_control):
    opened = open_contract(balance)
    balance.update_campaigns([report(opened, 10_000, at(3))])

    balance_control.set_consumption(opened.account.wallet_order_id, "250.00")

    assert balance.get_orders_info([opened.account.wallet_order_id])[0].consumed_total == 25_000
    assert balance.get_personal_account(contract_id=opened.contract_id).consumed_total == 25_000
    assert balance.update_campaigns([report(opened, 20_000, at(4))])[0].code == "CONSUMPTION_DECREASE"


MONTHS = ("2026-08", "2026-09", "2026-10")


@settings(max_examples=25)
@given(
    increments=st.lists(
        st.tuples(st.integers(min_value=0, max_value=2), st.integers(min_value=0, max_value=10_000_000)),
        min_size=1,
        max_size=8,
    )
)
def test_acts_are_each_month_consumption_and_add_up_to_the_total(balance_emulator, increments):
    control = BalanceEmulatorControl(balance_emulator.base_url)
    control.reset()
    balance = XmlRpcBalance(url=balance_emulator.url, operator_uid=0)
    opened = open_contract(balance)
    total = 0
    for day, (month, increment) in enumerate(sorted(increments, key=lambda i: i[0]), start=1):
        total += increment
        balance.update_campaigns([report(opened, total, at(day, month=8 + month))])

    for month in MONTHS:
        control.close_month(month)

    by_month = {MONTHS[m]: sum(i for mm, i in increments if mm == m) for m in range(3)}
    assert {a.act_date.strftime("%Y-%m"): a.amount for a in acts(balance, opened)} == {
        month: amount for month, amount in by_month.items() if amount > 0
    }
    assert sum(a.amount for a in acts(balance, opened)) == total
    assert all(a.vat == prorate(a.amount, 20, 120) for a in acts(balance, opened))


def test_concurrent_deposits_never_pass_the_credit_limit(balance, balance_emulator):
    opened = open_contract(balance, payment_type=PaymentType.POSTPAY, credit_limit=100_000)
    start = threading.Barrier(10)

    def deposit(_: int) -> str:
        adapter = XmlRpcBalance(url=balance_emulator.url, operator_uid=0)
        start.wait()
        try:
            adapter.deposit_from_credit(
                port.CreditDeposit(opened.contract_id, opened.account.wallet_order_id, 20_000, "RUB")
            )
        except BalanceFault as e:
            return e.code
        return "SUCCESS"

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = sorted(pool.map(deposit, range(10)))

    assert codes == ["CREDIT_LIMIT_EXCEEDED"] * 5 + ["SUCCESS"] * 5
    account = balance.get_personal_account(contract_id=opened.contract_id)
    assert (account.credit_used, account.credit_total) == (100_000, 100_000)
