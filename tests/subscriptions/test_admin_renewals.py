"""The subscription admin's renewal: the dunning state and payments per period shown, and the actions
"retry renewal now" and "turn renewal off" calling the same operations as the janitor and the API."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from billy.core import clock
from billy.subscriptions.models import Subscription
from billy.subscriptions.renewals import renew_subscription

from .renewal_helpers import paid_subscription

URL = "/admin/subscriptions/subscription/"


@pytest.fixture
def operator(client, cinema):
    user = get_user_model().objects.create_superuser("operator", "op@example.com", "pw-operator")
    client.force_login(user)
    return client


def test_retry_renewal_now_pays_for_the_next_period(operator, cinema, yookassa):
    subscription = paid_subscription(cinema, yookassa, now=clock.now(), card="4000000000000101")
    Subscription.objects.filter(pk=subscription.pk).update(next_renewal_at=clock.now())
    renew_subscription(subscription_id=subscription.pk, now=clock.now())
    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.PAST_DUE
    yookassa.decline_method(subscription.payment_method_id, None)

    answer = operator.post(URL, {"action": "retry_renewal", "_selected_action": [str(subscription.pk)]}, follow=True)

    assert "period 2, attempt 2: SUCCEEDED" in answer.content.decode()
    renewed = Subscription.objects.get(pk=subscription.pk)
    assert (renewed.status, renewed.period_number, renewed.period_start) == ("ACTIVE", 2, subscription.period_end)
    assert len([p for p in yookassa.payments() if p["status"] == "succeeded"]) == 2


def test_turn_renewal_off_is_the_apis_cancel(operator, cinema, yookassa):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())

    answer = operator.post(URL, {"action": "turn_renewal_off", "_selected_action": [str(subscription.pk)]}, follow=True)

    assert "renewal is off" in answer.content.decode()
    assert (Subscription.objects.get(pk=subscription.pk).renews, len(yookassa.payments())) == (False, 1)


def test_retry_renewal_of_a_subscription_with_renewal_off_changes_nothing(operator, cinema, yookassa):
    subscription = paid_subscription(cinema, yookassa, now=clock.now())
    operator.post(URL, {"action": "turn_renewal_off", "_selected_action": [str(subscription.pk)]})

    answer = operator.post(URL, {"action": "retry_renewal", "_selected_action": [str(subscription.pk)]}, follow=True)

    assert "renewal on and a saved card" in answer.content.decode()
    assert len(yookassa.payments()) == 1


def test_the_subscription_page_shows_renewal_dunning_and_payments_per_period(operator, cinema, yookassa):
    subscription = paid_subscription(cinema, yookassa, now=clock.now(), card="4000000000000101")
    Subscription.objects.filter(pk=subscription.pk).update(next_renewal_at=clock.now())
    renew_subscription(subscription_id=subscription.pk, now=clock.now())

    page = operator.get(f"{URL}{subscription.pk}/change/").content.decode()
    listing = operator.get(URL).content.decode()

    assert "Next renewal at" in page and "Renewal failures" in page and "0101" in page
    assert "insufficient_funds" in page and "299.00 RUB" in page
    assert "Past due" in listing or "past due" in listing
