"""Subscribe once per Idempotency-Key without HTTP: the use case any transport calls."""

from __future__ import annotations

from billy.core import clock
from billy.subscriptions.subscribe import subscribe_with_key


def test_a_keys_first_answer_is_kept_and_replayed_without_calling_again(cinema, yookassa):
    rendered = []

    def answer(subscription, created):
        rendered.append(subscription.pk)
        return (201 if created else 200), {"id": str(subscription.pk), "payment": subscription.latest_payment().status}

    def call():
        return subscribe_with_key(
            workspace=cinema,
            user_id="user-1",
            plan_code="monthly",
            return_url="https://cinema.example/back",
            key="key-1",
            answer=answer,
            now=clock.now(),
        )

    first, second = call(), call()

    assert first == second
    assert (first[0], first[1]["payment"]) == (201, "PENDING")
    assert len(rendered) == 1
    assert len(yookassa.requests(operation="create_payment")) == 1
