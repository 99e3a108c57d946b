"""Money in through Balance: payment requests, prepay invoices and their hosted page, bank transfers,
credit limits and deposits from credit: the adapter against the emulator over loopback."""

import datetime as dt
import re

import httpx
import pytest

from billy.integrations.balance import port
from billy.integrations.balance.port import BalanceFault, BalanceOutcomeUnknown, PaymentType
from tests.integrations.balance_setup import issue_invoice, open_contract

ALWAYS = (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))


def invoices(balance, opened) -> list[port.Invoice]:
    return balance.get_client_invoices(client_id=opened.client_id, date_from=ALWAYS[0], date_to=ALWAYS[1])


def order_info(balance, opened) -> port.OrderInfo:
    (info,) = balance.get_orders_info([opened.account.wallet_order_id])
    return info


def test_a_prepay_invoice_is_issued_for_a_request_and_listed(balance):
    opened = open_contract(balance)
    issued = issue_invoice(balance, opened, 150_000)

    assert (issued.amount, issued.currency) == (150_000, "RUB")
    assert issued.url.endswith(f"/invoices/{issued.invoice_id}")
    (invoice,) = invoices(balance, opened)
    assert (invoice.invoice_id, invoice.external_id, invoice.amount, invoice.paid_amount) == (
        issued.invoice_id,
        issued.external_id,
        150_000,
        0,
    )
    assert (invoice.kind, invoice.status) == (port.InvoiceKind.PREPAY, port.InvoiceStatus.UNPAID)
    assert invoice.issued_at.tzinfo is dt.UTC
    # Read back, an invoice says its contract and its page, as CreateInvoice did.
    assert (invoice.contract_id, invoice.url) == (opened.contract_id, issued.url)


def test_the_invoice_list_keeps_to_its_period_and_contract(balance):
    opened = open_contract(balance)
    issued = issue_invoice(balance, opened, 100)
    (invoice,) = invoices(balance, opened)
    after = invoice.issued_at + dt.timedelta(seconds=1)

    assert balance.get_client_invoices(client_id=opened.client_id, date_from=after, date_to=ALWAYS[1]) == []
    assert balance.get_client_invoices(client_id=opened.client_id, date_from=ALWAYS[0], date_to=invoice.issued_at) == []
    listed = balance.get_client_invoices(
        client_id=opened.client_id, contract_id=opened.contract_id, date_from=invoice.issued_at, date_to=after
    )
    assert [i.invoice_id for i in listed] == [issued.invoice_id]


def test_the_invoice_page_is_paid_by_a_plain_form_in_part_then_in_full(balance, balance_emulator):
    opened = open_contract(balance)
    issued = issue_invoice(balance, opened, 100_000)
    with httpx.Client(base_url=balance_emulator.base_url) as browser:
        page = browser.get(issued.url)
        assert page.status_code == 200
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        assert 'value="1000.00"' in page.text  # the rest is offered

        paid = browser.post(action, data={"amount": "300.00"}, follow_redirects=True)
        assert "partially_paid" in paid.text and 'value="700.00"' in paid.text
        assert order_info(balance, opened).paid_total == 30_000

        done = browser.post(action, data={"amount": "700.00"}, follow_redirects=True)
        assert 'id="done"' in done.text and "<form" not in done.text
    (invoice,) = invoices(balance, opened)
    assert (invoice.paid_amount, invoice.status) == (100_000, port.InvoiceStatus.PAID)
    assert order_info(balance, opened).paid_total == 100_000


def test_the_invoice_page_refuses_more_than_is_left_and_changes_nothing(balance, balance_emulator):
    opened = open_contract(balance)
    issued = issue_invoice(balance, opened, 100_000)
    answer = httpx.post(f"{issued.url}/pay", data={"amount": "1000.01"})
    assert answer.status_code == 422 and 'id="error"' in answer.text
    assert order_info(balance, opened).paid_total == 0


def test_a_control_call_pays_an_invoice_and_a_transfer_needs_no_invoice(balance, balance_control):
    opened = open_contract(balance)
    issued = issue_invoice(balance, opened, 50_000)
    balance_control.pay_invoice(issued.invoice_id, "200.00")
    balance_control.pay_invoice(issued.invoice_id)  # what is left
    balance_control.transfer(opened.account.personal_account_id, "10.50")

    assert order_info(balance, opened) == port.OrderInfo(
        order_id=opened.account.wallet_order_id,
        currency="RUB",
        paid_total=51_050,
        credit_total=0,
        consumed_total=0,
        rest=51_050,
    )
    assert balance.get_personal_account(contract_id=opened.contract_id).paid_total == 51_050
    (order,) = balance_control.orders()
    assert (order["ClientID"], order["PaidTotal"], order["CreditTotal"]) == (opened.client_id, "510.50", "0.00")


def test_request_and_invoice_faults(balance, balance_control):
    opened = open_contract(balance)
    with pytest.raises(BalanceFault) as error:
        balance.create_request(port.Request(client_id=opened.client_id, items=(port.RequestItem(42, 100),)))
    assert error.value.code == "ORDER_NOT_FOUND"
    with pytest.raises(BalanceFault) as error:
        balance.create_request(
            port.Request(client_id=opened.client_id, items=(port.RequestItem(opened.account.wallet_order_id, 0),))
        )
    assert error.value.code == "INVALID_PARAM"
    data = port.InvoiceData(
        request_id=42,
        person_id=opened.person_id,
        contract_id=opened.contract_id,
        payment_method=port.PaymentMethod.CARD,
    )
    with pytest.raises(BalanceFault) as error:
        balance.create_invoice(data)
    assert error.value.code == "REQUEST_NOT_FOUND"


def test_a_suspended_contract_takes_no_invoice_and_no_deposit(balance, balance_control):
    opened = open_contract(balance, payment_type=PaymentType.POSTPAY, credit_limit=100_000)
    balance_control.suspend(opened.contract_id)
    with pytest.raises(BalanceFault) as error:
        issue_invoice(balance, opened, 100)
    assert error.value.code == "CONTRACT_SUSPENDED"
    with pytest.raises(BalanceFault) as error:
        balance.deposit_from_credit(port.CreditDeposit(opened.contract_id, opened.account.wallet_order_id, 100, "RUB"))
    assert error.value.code == "CONTRACT_SUSPENDED"
    assert balance.get_client_contracts(client_id=opened.client_id)[0].suspended


def test_an_invoice_created_behind_a_dropped_answer_is_found_by_reading_back(balance, balance_control):
    opened = open_contract(balance)
    balance_control.inject("commit_then_timeout", method="CreateInvoice")
    with pytest.raises(BalanceOutcomeUnknown):
        issue_invoice(balance, opened, 12_345)
    assert [(i.amount, i.kind) for i in invoices(balance, opened)] == [(12_345, port.InvoiceKind.PREPAY)]


def test_a_request_created_behind_a_dropped_answer_is_kept_and_a_new_one_serves(balance, balance_control):
    # A request moves no money: after an unknown outcome the next request is a new one, never a second payment.
    opened = open_contract(balance)
    balance_control.inject("commit_then_timeout", method="CreateRequest")
    with pytest.raises(BalanceOutcomeUnknown):
        issue_invoice(balance, opened, 100)
    assert len(balance_control.payment_requests()) == 1
    assert issue_invoice(balance, opened, 100).amount == 100
    assert len(invoices(balance, opened)) == 1


def test_credit_moves_onto_the_order_within_the_limit(balance, balance_control):
    opened = open_contract(balance, payment_type=PaymentType.POSTPAY, credit_limit=100_000)
    order_id = opened.account.wallet_order_id

    result = balance.deposit_from_credit(port.CreditDeposit(opened.contract_id, order_id, 60_000, "RUB", "dep-1"))

    assert result.credit_available == 40_000
    assert balance.get_client_credit_limits(client_id=opened.client_id) == port.CreditLimits(
        currency="RUB", limits=(port.CreditLimit(contract_id=opened.contract_id, limit=100_000, spent=60_000),)
    )
    account = balance.get_personal_account(contract_id=opened.contract_id)
    assert (account.credit_total, account.credit_used, account.paid_total) == (60_000, 60_000, 0)
    with pytest.raises(BalanceFault) as error:
        balance.deposit_from_credit(port.CreditDeposit(opened.contract_id, order_id, 40_001, "RUB"))
    assert error.value.code == "CREDIT_LIMIT_EXCEEDED"
    assert balance.get_personal_account(contract_id=opened.contract_id).credit_used == 60_000


def test_a_prepay_contract_has_no_credit(balance):
    opened = open_contract(balance)
    with pytest.raises(BalanceFault) as error:
        balance.deposit_from_credit(port.CreditDeposit(opened.contract_id, opened.account.wallet_order_id, 1, "RUB"))
    assert error.value.code == "CONTRACT_NOT_POSTPAY"


def test_too_many_operations_is_a_selectable_refusal(balance, balance_control):
    opened = open_contract(balance, payment_type=PaymentType.POSTPAY, credit_limit=100_000)
    balance_control.inject("fault", method="DepositFromCredit", code="TOO_MANY_OPERATIONS")
    deposit = port.CreditDeposit(opened.contract_id, opened.account.wallet_order_id, 1_000, "RUB")
    with pytest.raises(BalanceFault) as error:
        balance.deposit_from_credit(deposit)
    assert error.value.code == "TOO_MANY_OPERATIONS"
    assert balance.get_personal_account(contract_id=opened.contract_id).credit_used == 0
    assert balance.deposit_from_credit(deposit).credit_available == 99_000


def test_a_deposit_behind_a_dropped_answer_shows_in_credit_used(balance, balance_control):
    opened = open_contract(balance, payment_type=PaymentType.POSTPAY, credit_limit=100_000)
    balance_control.inject("commit_then_timeout", method="DepositFromCredit")
    with pytest.raises(BalanceOutcomeUnknown):
        balance.deposit_from_credit(port.CreditDeposit(opened.contract_id, opened.account.wallet_order_id, 700, "RUB"))
    assert balance.get_personal_account(contract_id=opened.contract_id).credit_used == 700


def test_orders_info_of_an_unknown_order_is_a_fault(balance):
    with pytest.raises(BalanceFault) as error:
        balance.get_orders_info([42])
    assert error.value.code == "ORDER_NOT_FOUND"
