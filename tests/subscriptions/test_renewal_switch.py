"""Renewal off (cancel) and on (resume), as operations and over HTTP with Idempotency-Key."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from billy.core import clock
from billy.core.errors import InvalidState
from billy.subscriptions.expiry import expire_subscriptions
from billy.subscriptions.models import Subscription
from billy.subscriptions.renewal_switch import PaymentMethodNotSaved, cancel_renewal, resume_renewal
from billy.subscriptions.renewals import renew_due_subscriptions

from .conftest import run_jobs
from .renewal_helpers import paid_subscription, templates


def test_cancel_then_the_period_ends_no_renewal_is_tried_and_the_role_is_revoked(cinema, yookassa, auth, notifications):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())
    due = subscription.next_renewal_at

    canceled = cancel_renewal(workspace=cinema, subscription_id=str(subscription.pk), now=clock.now())

    assert (canceled.status, canceled.renews, canceled.next_renewal_at) == ("ACTIVE", False, None)
    assert renew_due_subscriptions(now=due) == 0
    assert expire_subscriptions(now=subscription.period_end - dt.timedelta(seconds=1)) == 0
    assert expire_subscriptions(now=subscription.period_end) == 1
    run_jobs()
    assert len(yookassa.payments()) == 1
    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.EXPIRED
    assert [e["op"] for e in auth.effects()] == ["grant", "revoke"]
    assert templates(notifications) == ["subscription_activated", "subscription_expired"]


def test_resume_before_the_end_renews(cinema, yookassa):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())
    cancel_renewal(workspace=cinema, subscription_id=str(subscription.pk), now=clock.now())

    resumed = resume_renewal(workspace=cinema, subscription_id=str(subscription.pk), now=clock.now())

    assert (resumed.renews, resumed.next_renewal_at) == (True, subscription.next_renewal_at)
    assert renew_due_subscriptions(now=subscription.next_renewal_at) == 1
    renewed = Subscription.objects.get(pk=subscription.pk)
    assert (renewed.status, renewed.period_number, renewed.period_start) == ("ACTIVE", 2, subscription.period_end)


def test_cancel_and_resume_repeated_answer_the_same_state(cinema, yookassa):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())
    sid = str(subscription.pk)

    first = cancel_renewal(workspace=cinema, subscription_id=sid, now=clock.now())
    second = cancel_renewal(workspace=cinema, subscription_id=sid, now=clock.now())
    assert (first.renews, second.renews, first.updated_at) == (False, False, second.updated_at)
    on = resume_renewal(workspace=cinema, subscription_id=sid, now=clock.now())
    again = resume_renewal(workspace=cinema, subscription_id=sid, now=clock.now())
    assert (on.renews, again.renews, on.updated_at) == (True, True, again.updated_at)


def test_resume_after_the_period_ended_is_refused(cinema, yookassa):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())
    cancel_renewal(workspace=cinema, subscription_id=str(subscription.pk), now=clock.now())

    with pytest.raises(InvalidState):
        resume_renewal(workspace=cinema, subscription_id=str(subscription.pk), now=subscription.period_end)


def test_resume_without_a_saved_card_is_refused(cinema, yookassa):
    subscription = paid_subscription(cinema, yookassa, now=clock.now(), card="4000000000000077")
    cancel_renewal(workspace=cinema, subscription_id=str(subscription.pk), now=clock.now())

    with pytest.raises(PaymentMethodNotSaved):
        resume_renewal(workspace=cinema, subscription_id=str(subscription.pk), now=clock.now())


def _post(client, key, path, idempotency_key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if idempotency_key:
        headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
    return client.post("/api/v1/workspaces/cinema" + path, content_type="application/json", **headers)


def test_cancel_and_resume_over_http_honour_the_idempotency_key(cinema, cinema_key, yookassa, client):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())
    path = f"/subscriptions/{subscription.pk}"

    canceled = _post(client, cinema_key, path + "/cancel", "off-1")
    resumed = _post(client, cinema_key, path + "/resume", "on-1")
    replayed = _post(client, cinema_key, path + "/cancel", "off-1")

    assert (canceled.status_code, resumed.status_code, replayed.status_code) == (200, 200, 200)
    assert (canceled.json()["renews"], resumed.json()["renews"]) == (False, True)
    assert json.loads(replayed.content) == json.loads(canceled.content)  # the key's first answer
    assert Subscription.objects.get(pk=subscription.pk).renews is True
    body = resumed.json()
    assert (body["card_last4"], body["card_saved"], body["period_number"]) == ("4477", True, 1)
    assert body["payment"]["period"] == 1


def test_cancel_over_http_of_an_unknown_subscription_is_404(cinema, cinema_key, client):
    answer = _post(client, cinema_key, "/subscriptions/00000000-0000-4000-8000-000000000000/cancel")

    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "subscription_not_found")


def test_resume_over_http_without_a_saved_card_is_409(cinema, cinema_key, yookassa, client):
    subscription = paid_subscription(cinema, yookassa, now=clock.now(), card="4000000000000077")
    _post(client, cinema_key, f"/subscriptions/{subscription.pk}/cancel")

    answer = _post(client, cinema_key, f"/subscriptions/{subscription.pk}/resume")

    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "payment_method_not_saved")
