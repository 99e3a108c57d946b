"""Balance calls billy: NotifyOrder over real sockets to a receiver that reads it with billy's parser,
the retry schedule, the lose / repeat / reorder switches, and the parser on its own."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billy.integrations.balance import notification, port
from billy.integrations.balance.emulator.notifier import RETRY_SCHEDULE_SECONDS
from billy.integrations.balance.port import PaymentType
from tests.conftest import wait_for
from tests.integrations.balance_setup import issue_invoice, open_contract
from tests.integrations.conftest import NotifyReceiver


def pay(balance, balance_control, opened, amount: str) -> None:
    balance_control.pay_invoice(issue_invoice(balance, opened, 1_000_000).invoice_id, amount)


def arrived(receiver: NotifyReceiver, count: int) -> list[port.Notification]:
    return wait_for(lambda: len(receiver.notifications()) >= count and receiver.notifications())


def test_each_payment_is_notified_with_rising_seq_and_cumulative_totals(balance, balance_control, notify_receiver):
    opened = open_contract(balance)
    pay(balance, balance_control, opened, "100.00")
    pay(balance, balance_control, opened, "250.50")

    first, second = arrived(notify_receiver, 2)

    assert (first.seq, first.paid_total, second.seq, second.paid_total) == (1, 10_000, 2, 35_050)
    assert (second.service_id, second.order_id, second.currency) == (1002, opened.account.wallet_order_id, "RUB")
    assert (second.credit_total, second.consumed_total) == (0, 0)
    assert second.at.tzinfo is dt.UTC
    log = wait_for(lambda: len(balance_control.notifications()) == 2 and balance_control.notifications())
    assert [(n["Seq"], n["outcome"], n["answer"], n["status"]) for n in log] == [
        (1, "delivered", "SUCCESS", 200),
        (2, "delivered", "SUCCESS", 200),
    ]


def test_a_deposit_from_credit_and_a_transfer_are_notified(balance, balance_control, notify_receiver):
    opened = open_contract(balance, payment_type=PaymentType.POSTPAY, credit_limit=100_000)
    balance.deposit_from_credit(port.CreditDeposit(opened.contract_id, opened.account.wallet_order_id, 40_000, "RUB"))
    balance_control.transfer(opened.account.personal_account_id, "5.00")

    first, second = arrived(notify_receiver, 2)

    assert (first.seq, first.credit_total, first.paid_total) == (1, 40_000, 0)
    assert (second.seq, second.credit_total, second.paid_total) == (2, 40_000, 500)


def test_a_fault_or_a_non_200_answer_is_retried_until_billy_takes_it(balance, balance_control, notify_receiver):
    notify_receiver.script = ["INTERNAL_ERROR", 500]
    opened = open_contract(balance)
    pay(balance, balance_control, opened, "1.00")

    received = arrived(notify_receiver, 3)

    assert [n.seq for n in received] == [1, 1, 1]
    log = wait_for(lambda: len(balance_control.notifications()) == 3 and balance_control.notifications())
    assert [(n["attempt"], n["outcome"], n["answer"]) for n in log] == [
        (1, "failed", "fault:INTERNAL_ERROR"),
        (2, "failed", "unreadable"),
        (3, "delivered", "SUCCESS"),
    ]


def test_a_notification_no_one_takes_is_given_up_after_the_schedule(balance, balance_control, notify_receiver):
    balance_control.configure(notify_scale=0.00001)  # the day of retries in about a second
    notify_receiver.script = [503] * (len(RETRY_SCHEDULE_SECONDS) + 1)
    opened = open_contract(balance)
    pay(balance, balance_control, opened, "1.00")

    log = wait_for(lambda: [n for n in balance_control.notifications() if n["outcome"] == "given_up"])

    assert log[0]["attempt"] == len(RETRY_SCHEDULE_SECONDS) + 1 == 29
    assert len(notify_receiver.notifications()) == 29


def test_a_lost_notification_never_arrives_and_the_next_carries_the_totals(balance, balance_control, notify_receiver):
    balance_control.inject("lose_notification")
    opened = open_contract(balance)
    pay(balance, balance_control, opened, "100.00")
    pay(balance, balance_control, opened, "100.00")

    (only,) = arrived(notify_receiver, 1)

    assert (only.seq, only.paid_total) == (2, 20_000)
    assert balance_control.notifications()[0]["outcome"] == "lost"


def test_a_repeated_notification_arrives_several_times(balance, balance_control, notify_receiver):
    balance_control.inject("repeat_notification", times=3)
    opened = open_contract(balance)
    pay(balance, balance_control, opened, "100.00")

    received = arrived(notify_receiver, 3)

    assert [(n.seq, n.paid_total) for n in received] == [(1, 10_000)] * 3


def test_a_reordered_notification_arrives_after_the_next_one(balance, balance_control, notify_receiver):
    balance_control.inject("reorder_notification")
    opened = open_contract(balance)
    pay(balance, balance_control, opened, "100.00")
    pay(balance, balance_control, opened, "100.00")

    received = arrived(notify_receiver, 2)

    assert [(n.seq, n.paid_total) for n in received] == [(2, 20_000), (1, 10_000)]


def test_notifications_go_to_their_service_url_or_the_default_one(balance, balance_control, notify_receiver):
    other = NotifyReceiver()
    try:
        balance_control.configure(notify_urls={1002: other.url})
        pay(balance, balance_control, open_contract(balance), "1.00")
        assert [n.service_id for n in arrived(other, 1)] == [1002]

        pay(balance, balance_control, open_contract(balance, service_id=2001), "1.00")
        assert [n.service_id for n in arrived(notify_receiver, 1)] == [2001]
        assert len(other.notifications()) == 1
    finally:
        other.stop()


def test_without_a_url_nothing_is_sent_and_the_log_says_so(balance, balance_control):
    pay(balance, balance_control, open_contract(balance), "1.00")
    (entry,) = wait_for(balance_control.notifications)
    assert (entry["outcome"], entry["url"]) == ("no_url", None)


# -- the parser billy's endpoint calls -------------------------------------------------------------------
NOTIFICATION = port.Notification(
    service_id=1002,
    order_id=1000042,
    seq=3,
    currency="RUB",
    paid_total=123_450,
    credit_total=0,
    consumed_total=99_999,
    at=dt.datetime(2026, 11, 23, 12, 0, 5, tzinfo=dt.UTC),
)


@given(
    paid=st.integers(min_value=0, max_value=99_999_999_999_999),
    credit=st.integers(min_value=0, max_value=99_999_999_999_999),
)
def test_totals_survive_the_wire_to_the_kopeck(paid, credit):
    sent = port.Notification(**{**NOTIFICATION.__dict__, "paid_total": paid, "credit_total": credit})
    assert notification.parse_notify_order(notification.notify_order_body(sent)) == sent


def test_a_body_that_is_not_notify_order_is_malformed():
    other_method = NOTIFICATION_BODY.replace(b"BalanceClient.NotifyOrder", b"BalanceClient.Other")
    for body in (b"<not xml", other_method):
        with pytest.raises(notification.MalformedNotification) as error:
            notification.parse_notify_order(body)
        assert error.value.field is None


@pytest.mark.parametrize(
    ("replace", "field"),
    [
        ((b"<name>Seq</name>", b"<name>Sequence</name>"), "Seq"),
        ((b"<string>1234.50</string>", b"<double>1234.5</double>"), "PaidTotal"),
        ((b"<string>1234.50</string>", b"<string>1234.505</string>"), "PaidTotal"),
    ],
)
def test_a_missing_or_misspelled_field_is_named(replace, field):
    with pytest.raises(notification.MalformedNotification) as error:
        notification.parse_notify_order(NOTIFICATION_BODY.replace(*replace))
    assert error.value.field == field


def test_the_answers_are_what_balance_looks_for():
    assert notification.is_success(notification.success_body())
    assert not notification.is_success(notification.fault_body("INTERNAL_ERROR", "later"))
    assert notification.describe_answer(notification.fault_body("INTERNAL_ERROR", "later")) == "fault:INTERNAL_ERROR"


NOTIFICATION_BODY = notification.notify_order_body(NOTIFICATION)
