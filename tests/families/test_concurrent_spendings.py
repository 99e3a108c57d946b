"""The same spending_id sent twice at once, from real threads: the limit never judges the repeat
as a second spending. The same body answers the one spending (or asks to retry while its hold is
in flight), another body is a conflict; one hold is made and counted once."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections, transaction

from billy.core.errors import IdempotencyConflict, UpstreamUnavailable
from billy.families import queries, spending
from billy.families.models import Member, Spending
from billy.ledger.models import SpendingLimit
from tests.conftest import NOW, wait_for
from tests.families.conftest import make_family

pytestmark = pytest.mark.slow

KID = "kid"


@pytest.fixture
def demo(taxi, cards):
    return make_family(taxi, cards, members=[(KID, "1000.00")])


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0]


def both_at_once(taxi, demo, amounts: tuple[int, int]) -> list:
    """Two spends of "ride-1" that both find no spending yet: the member's limit row is held
    locked until both wait on the database."""
    answers: list = [None, None]

    def one(index: int) -> None:
        try:
            answers[index] = spending.spend(
                workspace=taxi,
                family_id=demo.family.family_id,
                request=spending.SpendRequest(spending_id="ride-1", user_id=KID, amount=amounts[index]),
                now=NOW,
            )[0]
        except Exception as e:
            answers[index] = e
        finally:
            connections.close_all()

    limit_id = Member.objects.get(user_id=KID).limit_id
    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    with transaction.atomic():
        SpendingLimit.objects.select_for_update().get(pk=limit_id)
        for thread in threads:
            thread.start()
        wait_for(lambda: _waiting_on_locks() == 2)
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_a_repeat_at_once_with_the_same_body_answers_the_one_spending(taxi, demo, cards):
    answers = both_at_once(taxi, demo, (70000, 70000))

    made = Spending.objects.get()
    for answer in answers:
        assert isinstance(answer, Spending | UpstreamUnavailable), answer
        if isinstance(answer, Spending):
            assert answer.pk == made.pk
    assert any(isinstance(answer, Spending) for answer in answers)
    again = spending.spend(
        workspace=taxi,
        family_id=demo.family.family_id,
        request=spending.SpendRequest(spending_id="ride-1", user_id=KID, amount=70000),
        now=NOW,
    )
    assert (again[0].pk, again[0].status, again[1]) == (made.pk, Spending.Status.HELD, False)
    assert len(cards.payments()) == 1
    used = queries.check_available(workspace=taxi, family_id=demo.family.family_id, user_id=KID, amount=1, now=NOW)
    assert used.usage.used == 70000


def test_a_repeat_at_once_with_another_body_is_a_conflict(taxi, demo, cards):
    answers = both_at_once(taxi, demo, (70000, 60000))

    assert sorted(type(answer).__name__ for answer in answers) == ["IdempotencyConflict", "Spending"]
    assert isinstance(next(a for a in answers if not isinstance(a, Spending)), IdempotencyConflict)
    assert len(cards.payments()) == 1


def test_a_spending_dropped_meanwhile_asks_to_retry_and_is_never_a_crash(taxi, demo, cards):
    with pytest.raises(UpstreamUnavailable):
        spending.resolve_spending(spending_pk=uuid.uuid4(), now=NOW, answer=True)
    assert spending.resolve_spending(spending_pk=uuid.uuid4(), now=NOW) is None
