"""Credit invoices of postpay contracts are fetched with the acts."""

from __future__ import annotations

import zoneinfo

from billy.consumption import acts
from billy.consumption.months import month_of
from billy.core import clock
from billy.integrations.balance import get_balance
from billy.moneyin.models import Invoice
from tests.moneyin.conftest import postpay_client  # noqa: F401 (a fixture)

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def test_fetching_a_month_acts_brings_the_postpay_contract_credit_invoice(
    postpay_client,  # noqa: F811
    balance_control,
    monkeypatch,
):
    # Both clocks at the middle of the emulator's month, whatever the day the test runs on.
    t = balance_control.now()
    target = t.astimezone(MSK).replace(day=15, hour=12, minute=0, second=0, microsecond=0)
    balance_control.advance_clock((target - t).total_seconds())
    monkeypatch.setattr(clock, "now", lambda: target)
    month = month_of(target, time_zone="Europe/Moscow")
    answer = postpay_client.post(
        "/clients/client-1/wallet/credit-transfers", {"transfer_id": "tr-1", "amount": "300.00"}
    )
    assert answer.status_code == 201, answer.content
    balance_control.close_month(f"{month:%Y-%m}")
    assert not Invoice.objects.filter(kind=Invoice.Kind.CREDIT).exists()

    fetched = acts.fetch_acts(month=month, balance=get_balance(), now=clock.now())

    (credit,) = Invoice.objects.filter(kind=Invoice.Kind.CREDIT)
    assert (credit.amount, credit.status) == (300_00, Invoice.Status.ISSUED)
    assert (fetched.clients, fetched.acts, fetched.failed) == (1, 0, 0)
