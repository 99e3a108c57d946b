"""The month rule holds whatever the timing: for charges and holds at any moments of two months
(the months' first and last seconds among them), confirmed whenever, and reports sent at any
moments in between, what Balance counts in each month (its act is formed from exactly this) equals
billy's consumption of that month by the month rule, to the kopeck, once reporting caught up."""

from __future__ import annotations

import datetime as dt
import itertools

from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billy.consumption.models import OrderReport
from billy.consumption.months import CONSUMPTION_ENTRIES, month_span
from billy.integrations.balance.emulator import books as balance_books
from billy.integrations.balance.emulator.state import month_bounds
from billy.workspaces.models import Workspace

from .conftest import Books, msk

EDGES = [
    msk(10, 1, 0, 0, 0),
    msk(10, 31, 23, 59, 59),
    msk(11, 1, 0, 0, 0),
    msk(11, 30, 23, 59, 59),
    # Yekaterinburg's month ends, two hours before Moscow's
    msk(10, 31, 21, 59, 59),
    msk(10, 31, 22, 0, 0),
    msk(11, 30, 21, 59, 59),
    msk(11, 30, 22, 0, 0),
]
ZONES = ["Europe/Moscow", "Asia/Yekaterinburg"]
moments = st.one_of(
    st.sampled_from(EDGES),
    st.integers(0, 61 * 24 * 3600 - 1).map(lambda s: msk(10, 1).replace(hour=0) + dt.timedelta(seconds=s)),
)
operation = st.tuples(
    st.integers(1, 100_000_00),  # amount
    moments,  # when it is charged (or held)
    st.one_of(st.none(), st.integers(0, 6 * 24 * 3600)),  # a hold confirmed this many seconds later
)
_ids = itertools.count()


def ledger_by_month(wallet_id: int, time_zone: str) -> dict[str, int]:
    from django.db import connection

    totals = {}
    for month in (dt.date(2026, 10, 1), dt.date(2026, 11, 1)):
        start, end = month_span(month, time_zone=time_zone)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT coalesce(sum(amount), 0)::bigint FROM ({CONSUMPTION_ENTRIES}) c "
                "WHERE wallet_id = %s AND posted_at >= %s AND posted_at < %s",
                [wallet_id, start, end],
            )
            totals[f"{month:%Y-%m}"] = cursor.fetchone()[0]
    return totals


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    operations=st.lists(operation, min_size=1, max_size=8),
    report_at=st.lists(moments, max_size=4),
    time_zone=st.sampled_from(ZONES),
)
def test_what_balance_counts_in_each_month_is_billy_monthly_consumption(
    money, balance_control, balance_emulator, operations, report_at, time_zone
):
    client_id = f"p-{next(_ids)}"
    money.register(client_id)
    money.add_payer(client_id)
    money.add_contract(client_id)
    books = Books(balance_control, client_id)
    Workspace.objects.filter(pk=books.workspace.pk).update(time_zone=time_zone)  # a workspace outside Moscow too
    books.fund(10**12, msk(9, 1))
    events = []
    for n, (amount, at, confirm_after) in enumerate(operations):
        events.append((at, "charge", (f"{client_id}-{n}", amount, confirm_after is not None)))
        if confirm_after is not None:
            events.append((at + dt.timedelta(seconds=confirm_after), "confirm", f"{client_id}-{n}"))
    events += [(at, "report", None) for at in report_at]
    for at, kind, what in sorted(events, key=lambda e: (e[0], e[1] != "charge")):
        if kind == "charge":
            books.charge(what[0], what[1], at, hold=what[2])
        elif kind == "confirm":
            books.confirm(what, at)
        else:
            books.report(at)
    books.report(msk(12, 10))  # catch-up

    order = OrderReport.objects.get(wallet__client=books.client)
    state = balance_emulator.state.table("orders")[order.order_id]
    counted = {}
    for month, previous in (("2026-10", "2026-09"), ("2026-11", "2026-10")):
        counted[month] = balance_books.consumed_as_of(state, month_bounds(month)[1]) - balance_books.consumed_as_of(
            state, month_bounds(previous)[1]
        )
    # Balance's months are Moscow's (BILLY_BALANCE_TIME_ZONE), whatever the workspace's zone.
    assert counted == ledger_by_month(order.wallet_id, django_settings.BILLY_BALANCE_TIME_ZONE)
    assert order.reported_total == order.wallet.net_consumption == state["consumed"]
