"""Family card money is in the day's figures the console dashboard shows: a cleared spending is
paid by card, its refund a card refund."""

from __future__ import annotations

import datetime as dt

from billy.families import spending
from billy.ledger.queries import daily_money
from tests.conftest import NOW
from tests.families.conftest import make_family

KID = "kid"


def test_cleared_spendings_and_their_refunds_are_card_money_of_the_day(taxi, cards):
    demo = make_family(taxi, cards, members=[(KID, "1000.00")])
    spending.spend(
        workspace=taxi,
        family_id=demo.family.family_id,
        request=spending.SpendRequest(spending_id="ride-1", user_id=KID, amount=40000),
        now=NOW,
    )
    spending.clear_spending(workspace=taxi, spending_id="ride-1", amount=30000, now=NOW)
    spending.refund_spending(
        workspace=taxi, spending_id="ride-1", request=spending.RefundRequest(refund_id="back-1", amount=10000), now=NOW
    )

    days = daily_money(since=NOW - dt.timedelta(days=1), until=NOW + dt.timedelta(days=1))

    assert [(d.workspace_id, d.card_paid, d.card_refunded, d.charged) for d in days] == [(taxi.pk, 30000, 10000, 0)]
