"""Subscribe once per Idempotency-Key without HTTP: the use case any transport calls."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from billy.core import clock
from billy.idempotency.operations import KeyInProgress
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


def test_a_call_waits_for_the_keys_first_call_then_answers_in_progress(cinema, yookassa, settings):
    """A key's first call still running holds the key: another call waits BILLY_IDEMPOTENCY_WAIT_SECONDS,
    then is `in_progress` with Retry-After; once the first has answered, the key replays it."""
    settings.BILLY_IDEMPOTENCY_WAIT_SECONDS = 0.5
    inside, release = threading.Event(), threading.Event()

    def slow_answer(subscription, created):
        inside.set()
        release.wait(timeout=60)
        return (201 if created else 200), {"id": str(subscription.pk)}

    def call(answer):
        try:
            return subscribe_with_key(
                workspace=cinema,
                user_id="user-1",
                plan_code="monthly",
                return_url="https://cinema.example/back",
                key="key-1",
                answer=answer,
                now=clock.now(),
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(call, slow_answer)
        assert inside.wait(timeout=60)
        with pytest.raises(KeyInProgress) as refused:
            call(lambda subscription, created: (299, {}))
        release.set()
        first_answer = first.result(timeout=60)

    assert refused.value.retry_after == settings.BILLY_RETRY_AFTER_SECONDS
    assert first_answer[0] == 201
    assert call(lambda subscription, created: (299, {})) == first_answer
