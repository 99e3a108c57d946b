"""Renewal over real sockets with `billy serve` and `billy worker`: the worker killed with SIGKILL
between the provider's answer and billy's commit still leaves one payment per period at the provider."""

from __future__ import annotations

import os
import signal
import uuid

import psycopg
import pytest

from billy.core import clock
from billy.core.tasks import defer
from billy.ledger.models import LedgerTransaction
from billy.subscriptions.models import Subscription, SubscriptionPayment
from billy.subscriptions.renewals import renew_subscription, renewal_payment_id
from tests.conftest import database_url_for_children, wait_for

from .renewal_helpers import RETURN_URL, templates

pytestmark = pytest.mark.slow


def test_worker_killed_between_the_renewal_answer_and_the_commit(stack, yookassa, auth, notifications):
    created = stack.api.post(
        "/users/user-1/subscriptions",
        json={"plan": "monthly", "return_url": RETURN_URL},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    ).json()
    yookassa.pay(created["payment"]["provider_payment_id"])
    wait_for(lambda: stack.api.get(f"/subscriptions/{created['id']}").json()["status"] == "ACTIVE")
    subscription_id = created["id"]
    renewal_id = str(renewal_payment_id(subscription_id, 2, 1))

    # The provider takes a moment to answer: time to hold the subscription row, which recording the
    # answer locks, so the worker has the answer in hand and waits before its commit.
    yookassa.inject("delay", operation="create_payment", seconds=2)
    Subscription.objects.filter(pk=subscription_id).update(next_renewal_at=clock.now())
    defer("billy.subscriptions.renew_subscription", subscription_id=subscription_id)
    with psycopg.connect(database_url_for_children()) as blocker:
        wait_for(lambda: SubscriptionPayment.objects.filter(pk=renewal_id).exists())
        blocker.execute("SELECT 1 FROM subscription WHERE id = %s FOR UPDATE", [subscription_id])
        answered = wait_for(lambda: yookassa.requests(operation="create_payment")[1:])
        assert [(r["status"], r["idempotence_key"]) for r in answered] == [(200, renewal_id)]
        with psycopg.connect(database_url_for_children(), autocommit=True) as watcher:
            waiting = "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))"
            wait_for(lambda: watcher.execute(waiting, [blocker.info.backend_pid]).fetchone()[0])
        os.kill(stack.worker.pid, signal.SIGKILL)
        stack.worker.wait(timeout=10)
        blocker.rollback()
    assert SubscriptionPayment.objects.get(pk=renewal_id).status == SubscriptionPayment.Status.NEW

    # The renewal run again: the same key, the provider's same payment; a new worker does the rest.
    stack.start_worker()
    renewed = renew_subscription(subscription_id=subscription_id, now=clock.now())
    assert (renewed.pk, renewed.status) == (uuid.UUID(renewal_id), SubscriptionPayment.Status.SUCCEEDED)
    wait_for(lambda: "subscription_renewed" in templates(notifications))

    at_provider = yookassa.payments()
    assert [p["status"] for p in at_provider] == ["succeeded", "succeeded"]
    assert sorted(p["metadata"]["billy_payment_id"] for p in at_provider) == sorted(
        [created["payment"]["payment_id"], renewal_id]
    )
    assert LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.CARD_PAYMENT).count() == 2
    assert Subscription.objects.get(pk=subscription_id).period_number == 2
    assert templates(notifications) == ["subscription_activated", "subscription_renewed"]
