"""A property test of the member's limit: random sequences of spend, clear, cancel, refund, limit
changes and month changes, through the operations and the card system emulator, against an
independent model of usage (holds + cleared - refunded in the spending's month) after every step."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billy.core.errors import InvalidState
from billy.families import membership, queries, spending
from billy.ledger.limits import LimitExceeded
from tests.families.conftest import make_family

MONTH_STARTS = [dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC), dt.datetime(2026, 12, 10, tzinfo=dt.UTC)]
MONTH_STARTS.append(dt.datetime(2027, 1, 15, tzinfo=dt.UTC))
AMOUNTS = st.integers(min_value=1, max_value=60000)

steps = st.lists(
    st.one_of(
        st.tuples(st.just("spend"), AMOUNTS),
        st.tuples(st.just("spend_rest"), st.integers(0, 1)),  # exactly what is left, or a kopeck more
        st.tuples(st.just("clear"), st.integers(0, 9), st.integers(1, 100)),  # a spending, percent of it
        st.tuples(st.just("cancel"), st.integers(0, 9)),
        st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 100)),
        st.tuples(st.just("limit"), st.one_of(st.none(), st.integers(0, 150000))),
        st.tuples(st.just("month"), st.integers(0, len(MONTH_STARTS) - 1)),
    ),
    min_size=1,
    max_size=14,
)


@dataclasses.dataclass
class Modelled:
    spending_id: str
    month: int
    amount: int
    status: str = "HELD"
    cleared: int = 0
    refunded: int = 0

    def usage(self) -> int:
        return {"HELD": self.amount, "CLEARED": self.cleared - self.refunded}.get(self.status, 0)


@given(steps=steps)
@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_usage_and_check_available_agree_with_the_model(taxi, cards, settings, steps):
    settings.BILLY_FAMILY_HOLD_TTL_SECONDS = 10 * 365 * 86400  # months pass here; expiry is tested apart
    owner, kid = f"owner-{uuid.uuid4().hex[:8]}", f"kid-{uuid.uuid4().hex[:8]}"
    demo = make_family(taxi, cards, owner=owner, members=[(kid, "1000.00")])
    family_id = demo.family.family_id
    cap: int | None = 100000
    month = 0
    made: list[Modelled] = []

    for step in steps:
        now = MONTH_STARTS[month]
        action = step
        if step[0] == "spend_rest":
            left = (cap or 100000) - sum(s.usage() for s in made if s.month == month)
            action = ("spend", max(1, left + step[1]))
        match action:
            case ("spend", amount):
                used = sum(s.usage() for s in made if s.month == month)
                fits = cap is None or used + amount <= cap
                spending_id = f"s-{len(made)}-{uuid.uuid4().hex[:6]}"
                try:
                    spending.spend(
                        workspace=taxi,
                        family_id=family_id,
                        request=spending.SpendRequest(spending_id=spending_id, user_id=kid, amount=amount),
                        now=now,
                    )
                    assert fits, f"spent {amount} past the limit {cap} with {used} used"
                    made.append(Modelled(spending_id, month, amount))
                except LimitExceeded:
                    assert not fits, f"refused {amount} under the limit {cap} with {used} used"
            case ("clear", index, percent) if made:
                target = made[index % len(made)]
                amount = max(1, target.amount * percent // 100)
                try:
                    spending.clear_spending(workspace=taxi, spending_id=target.spending_id, amount=amount, now=now)
                    assert target.status == "HELD" or (target.status == "CLEARED" and target.cleared == amount)
                    target.status, target.cleared = "CLEARED", amount
                except InvalidState:
                    assert target.status != "HELD"
            case ("cancel", index) if made:
                target = made[index % len(made)]
                try:
                    spending.cancel_spending(workspace=taxi, spending_id=target.spending_id, now=now)
                    assert target.status in ("HELD", "CANCELLED")
                    target.status = "CANCELLED"
                except InvalidState:
                    assert target.status == "CLEARED"
            case ("refund", index, percent) if made:
                target = made[index % len(made)]
                left = target.cleared - target.refunded
                amount = max(1, target.amount * percent // 100)
                try:
                    spending.refund_spending(
                        workspace=taxi,
                        spending_id=target.spending_id,
                        request=spending.RefundRequest(refund_id=f"r-{uuid.uuid4().hex}", amount=amount),
                        now=now,
                    )
                    assert target.status == "CLEARED" and amount <= left
                    target.refunded += amount
                except InvalidState:
                    assert target.status != "CLEARED"
                except spending.RefundExceedsSpending:
                    assert target.status == "CLEARED" and amount > left
            case ("limit", new_cap):
                family = queries.get_family(workspace=taxi, family_id=family_id)
                membership.set_member_limit(
                    workspace=taxi,
                    family_id=family_id,
                    acting_user_id=owner,
                    user_id=kid,
                    change=membership.LimitChange(amount=new_cap, revision=family.revision),
                    now=now,
                )
                cap = new_cap
            case ("month", new_month):
                month = new_month

        now = MONTH_STARTS[month]
        used = sum(s.usage() for s in made if s.month == month)
        left = max(1, (cap or 0) - used)
        for probe in (1, 50000, 100000, left, left + 1):
            found = queries.check_available(workspace=taxi, family_id=family_id, user_id=kid, amount=probe, now=now)
            assert found.usage.used == used, f"after {step}: usage {found.usage.used}, model {used}"
            assert found.usage.cap == cap
            assert found.available == (cap is None or used + probe <= cap), f"after {step}: probe {probe}"
