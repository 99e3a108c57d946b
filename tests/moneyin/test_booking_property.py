"""Property: whatever the partial payments and whatever happens to their notifications (delivered,
repeated, reordered, lost), the wallet never holds more than Balance shows paid, and after the
janitor's poll it holds exactly that: each kopeck booked once."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from billy.core.money import format_amount
from tests.moneyin.conftest import pay_on_page, process_notifications, run_janitor

FATES = st.sampled_from(["delivered", "repeated", "reordered", "lost"])
STEPS = st.lists(st.tuples(st.integers(min_value=1, max_value=50_000), FATES), min_size=1, max_size=6)


def paid_total(balance_control) -> int:
    (order,) = balance_control.orders()
    units, _, cents = order["PaidTotal"].partition(".")
    return int(units) * 100 + int(cents or 0)


def available(money) -> int:
    units, _, cents = money.wallet()["available"].partition(".")
    return int(units) * 100 + int(cents)


def test_the_wallet_is_what_was_paid_after_every_step(prepay_client, balance_control, notified):
    counter = iter(range(10_000))

    @settings(max_examples=12)
    @given(steps=STEPS)
    def run(steps):
        answer = prepay_client.post(
            "/clients/client-1/invoices",
            {"invoice_id": f"inv-{next(counter)}", "amount": format_amount(sum(a for a, _ in steps))},
        )
        assert answer.status_code == 201, answer.content
        url = answer.json()["payment_url"]
        for amount, fate in steps:
            if fate == "repeated":
                balance_control.inject("repeat_notification", times=3)
            elif fate == "reordered":
                balance_control.inject("reorder_notification")
            elif fate == "lost":
                balance_control.inject("lose_notification")
            pay_on_page(url, format_amount(amount))
            process_notifications()
            assert available(prepay_client) <= paid_total(balance_control)
            run_janitor()
            assert available(prepay_client) == paid_total(balance_control)
        balance_control.clear_faults()

    run()
