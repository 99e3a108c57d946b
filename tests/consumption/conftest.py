"""Consumption, acts and reconciliation against the Balance emulator over loopback, with pinned
time: billy's operations take `now`, and the emulator's clock is moved to the same moments (its
month close, and a change made behind billy's back, are dated by it)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.conf import settings

from billy.charges import operations as charges
from billy.charges.operations import ChargeRequest
from billy.clients.models import Client
from billy.consumption import acts, reconciliation, reporting
from billy.consumption.months import parse_month
from billy.integrations.balance import get_balance
from billy.ledger import operations as ledger_operations
from tests.moneyin.conftest import money, prepay_client, service_key  # noqa: F401 (fixtures)

MSK = zoneinfo.ZoneInfo("Europe/Moscow")  # the workspace's zone, and Balance's


def msk(month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=MSK)


class Books:
    """One client's wallet bound to its wallet order, and the operations a test drives."""

    def __init__(self, control, service_client_id: str = "client-1") -> None:
        self.control = control
        self.client = Client.objects.get(service_client_id=service_client_id)
        self.workspace = self.client.workspace
        self.balance = get_balance()
        self.charged = 0

    def fund(self, amount: int, now: dt.datetime) -> None:
        ledger_operations.adjust_wallet(
            client=self.client,
            adjustment_id=f"fund-{self.client.pk}-{now.timestamp()}",
            amount=amount,
            reason="test",
            actor="t",
            now=now,
        )

    def charge(self, charge_id: str, amount: int, now: dt.datetime, *, hold: bool = False):
        request = ChargeRequest(charge_id=charge_id, product="ads", amount=amount, hold=hold)
        return charges.post_charge(client=self.client, request=request, now=now)

    def confirm(self, charge_id: str, now: dt.datetime):
        return charges.confirm_charge(workspace=self.workspace, charge_id=charge_id, amount=None, now=now)

    def refund(self, charge_id: str, amount: int, now: dt.datetime):
        return charges.refund_charge(
            workspace=self.workspace, charge_id=charge_id, refund_id=f"r-{charge_id}", amount=amount, reason="", now=now
        )

    def report(self, now: dt.datetime) -> reporting.ReportRun:
        """A run that reports as of `now` (it runs the grace period later)."""
        grace = dt.timedelta(seconds=settings.BILLY_CONSUMPTION_GRACE_SECONDS)
        return reporting.report_consumption(balance=self.balance, now=now + grace)

    def set_balance_clock(self, moment: dt.datetime) -> None:
        self.control.advance_clock((moment - self.control.now()).total_seconds())

    def order(self) -> dict:
        (order,) = [o for o in self.control.orders() if o["ClientID"] == self.client.balance_client_id]
        return order

    def order_total(self) -> int:
        """The order's consumed total in Balance, in kopecks."""
        units, _, cents = self.order()["ConsumedTotal"].partition(".")
        return int(units) * 100 + int(cents)

    def reconcile(self, month: str, now: dt.datetime):
        first = parse_month(month)
        acts.fetch_acts(month=first, workspace=self.workspace, balance=self.balance, now=now)
        acts.read_balance_totals(workspace=self.workspace, balance=self.balance, now=now)
        run = reconciliation.reconcile_month(workspace=self.workspace, month=first, now=now)
        return run, run.lines.get(client=self.client)


@pytest.fixture
def books(prepay_client, balance_control) -> Books:  # noqa: F811
    books = Books(balance_control)
    books.fund(1_000_000_00, msk(11, 1, 0, 1))
    return books
