"""A refund_id repeated: the same request (the amount given, or left out, as the first time)
answers the refund; another request is a conflict, even one that leaves the amount out."""

from __future__ import annotations

import pytest

from billy.core.errors import IdempotencyConflict
from billy.families import spending
from billy.families.models import SpendingRefund
from tests.conftest import NOW
from tests.families.conftest import make_family

KID = "kid"


@pytest.fixture
def cleared(taxi, cards):
    demo = make_family(taxi, cards, members=[(KID, "1000.00")])
    spending.spend(
        workspace=taxi,
        family_id=demo.family.family_id,
        request=spending.SpendRequest(spending_id="ride-1", user_id=KID, amount=40000),
        now=NOW,
    )
    spending.clear_spending(workspace=taxi, spending_id="ride-1", amount=None, now=NOW)
    return demo


def refund(taxi, amount: int | None, refund_id: str = "back-1"):
    request = spending.RefundRequest(refund_id=refund_id, amount=amount)
    return spending.refund_spending(workspace=taxi, spending_id="ride-1", request=request, now=NOW)


@pytest.mark.parametrize(("first", "then"), [(10000, None), (None, 40000), (None, 10000), (10000, 20000)])
def test_a_repeat_with_another_amount_or_none_is_a_conflict(taxi, cleared, first, then):
    refund(taxi, first)

    with pytest.raises(IdempotencyConflict):
        refund(taxi, then)
    assert SpendingRefund.objects.count() == 1


@pytest.mark.parametrize("amount", [10000, None])
def test_the_same_request_answers_the_refund(taxi, cleared, amount):
    made, created = refund(taxi, amount)
    again, created_again = refund(taxi, amount)

    assert (created, created_again, again.pk, again.status) == (True, False, made.pk, SpendingRefund.Status.SUCCEEDED)
