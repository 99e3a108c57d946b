"""The subscription admin: lists, detail pages, the plan form, the refund and re-check actions."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billy.core import clock
from billy.subscriptions.models import Plan, Subscription, SubscriptionPayment, SubscriptionRefund
from billy.subscriptions.payments import recheck_payment, submit_payment
from billy.subscriptions.refunds import request_refund
from billy.subscriptions.subscribe import subscribe

from .conftest import run_jobs

RETURN_URL = "https://cinema.example/back"


@pytest.fixture
def operator(client, cinema):
    user = get_user_model().objects.create_superuser("operator", "op@example.com", "pw-operator")
    client.force_login(user)
    return client


def _subscription(cinema, yookassa, user_id, *, paid=True):
    subscription, payment, _ = subscribe(
        workspace=cinema, user_id=user_id, plan_code="monthly", return_url=RETURN_URL, now=clock.now()
    )
    payment = submit_payment(payment_id=payment.pk, now=clock.now())
    if paid:
        yookassa.pay(payment.provider_payment_id)
    return subscription, payment


def test_lists_show_money_as_decimals_with_a_fixed_number_of_queries(operator, cinema, yookassa):
    for n in range(3):
        _subscription(cinema, yookassa, f"user-{n}")
    counts = {}
    for url in (
        "/admin/subscriptions/subscription/",
        "/admin/subscriptions/subscriptionpayment/",
        "/admin/subscriptions/plan/",
    ):
        with CaptureQueriesContext(connection) as queries:
            page = operator.get(url)
        assert page.status_code == 200
        counts[url] = len(queries)
    _subscription(cinema, yookassa, "user-9")
    with CaptureQueriesContext(connection) as queries:
        operator.get("/admin/subscriptions/subscriptionpayment/")

    assert len(queries) == counts["/admin/subscriptions/subscriptionpayment/"]
    assert "299.00 RUB" in operator.get("/admin/subscriptions/subscriptionpayment/").content.decode()


def test_detail_pages_show_the_amount_read_only(operator, cinema, yookassa):
    subscription, payment = _subscription(cinema, yookassa, "user-1")

    page = operator.get(f"/admin/subscriptions/subscriptionpayment/{payment.pk}/change/").content.decode()
    sub_page = operator.get(f"/admin/subscriptions/subscription/{subscription.pk}/change/").content.decode()

    assert "299.00 RUB" in page and 'name="amount"' not in page
    assert payment.provider_payment_id in sub_page


def test_search_by_provider_payment_id(operator, cinema, yookassa):
    _, payment = _subscription(cinema, yookassa, "user-1")
    _subscription(cinema, yookassa, "user-2")

    page = operator.get("/admin/subscriptions/subscription/", {"q": payment.provider_payment_id}).content.decode()

    assert "user-1" in page and "user-2" not in page


def test_recheck_action_activates_a_paid_payment(operator, cinema, yookassa, auth, notifications):
    subscription, payment = _subscription(cinema, yookassa, "user-1")

    answer = operator.post(
        "/admin/subscriptions/subscriptionpayment/",
        {"action": "recheck", "_selected_action": [str(payment.pk)]},
        follow=True,
    )
    run_jobs()

    assert "SUCCEEDED" in answer.content.decode()
    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.ACTIVE
    assert auth.roles("cinema", "user-1") == ["subscriber"]


def test_refund_action_asks_for_a_reason_then_refunds(operator, cinema, yookassa, auth, notifications):
    subscription, payment = _subscription(cinema, yookassa, "user-1")
    recheck_payment(payment_id=payment.pk, now=clock.now())
    url = "/admin/subscriptions/subscription/"
    selected = {"action": "refund", "_selected_action": [str(subscription.pk)]}

    form = operator.post(url, selected)
    done = operator.post(url, {**selected, "apply": "1", "reason": "asked by phone"}, follow=True)
    run_jobs()

    assert 'name="reason"' in form.content.decode()
    assert "Refund requested: 299.00 RUB" in done.content.decode()
    refund = SubscriptionRefund.objects.get()
    assert (refund.status, refund.reason, refund.requested_by) == ("SUCCEEDED", "asked by phone", "admin operator")


def test_refund_action_outside_the_policy_changes_nothing(operator, cinema, yookassa):
    subscription, _ = _subscription(cinema, yookassa, "user-1", paid=False)

    answer = operator.post(
        "/admin/subscriptions/subscription/",
        {"action": "refund", "_selected_action": [str(subscription.pk)], "apply": "1", "reason": ""},
        follow=True,
    )

    assert "Nothing done" in answer.content.decode()
    assert SubscriptionRefund.objects.count() == 0


def test_failed_refunds_filter_is_the_problem_list(operator, cinema, yookassa):
    subscription, payment = _subscription(cinema, yookassa, "user-1")
    recheck_payment(payment_id=payment.pk, now=clock.now())
    yookassa.inject("refund_cancel", reason="rejected_by_payee")
    request_refund(workspace=cinema, subscription_id=subscription.pk, reason="", requested_by="t", now=clock.now())
    run_jobs()

    page = operator.get("/admin/subscriptions/subscriptionrefund/", {"problem": "yes"}).content.decode()

    assert "rejected_by_payee" in page


def test_plan_is_created_with_a_decimal_price(operator, cinema):
    answer = operator.post(
        "/admin/subscriptions/plan/add/",
        {
            "workspace": cinema.pk,
            "code": "weekly",
            "title": "Cinema: one week",
            "price_text": "99.90",
            "currency": "RUB",
            "period": "MONTH",
            "refund_policy": "FULL",
            "refund_days": "3",
            "role": "subscriber",
            "is_active": "on",
        },
    )

    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert Plan.objects.get(code="weekly").price == 9990


def test_plan_with_a_bad_price_is_refused(operator, cinema):
    answer = operator.post(
        "/admin/subscriptions/plan/add/",
        {
            "workspace": cinema.pk,
            "code": "bad",
            "title": "x",
            "price_text": "1,5",
            "currency": "RUB",
            "period": "MONTH",
            "refund_policy": "FULL",
            "refund_days": "3",
            "role": "subscriber",
        },
    )

    assert answer.status_code == 200
    assert not Plan.objects.filter(code="bad").exists()
    assert SubscriptionPayment.objects.count() == 0


def test_recheck_action_on_a_refund_in_progress(operator, cinema, yookassa):
    subscription, payment = _subscription(cinema, yookassa, "user-1")
    recheck_payment(payment_id=payment.pk, now=clock.now())
    yookassa.inject("refund_pending", seconds=600)
    refund, _ = request_refund(
        workspace=cinema, subscription_id=subscription.pk, reason="", requested_by="t", now=clock.now()
    )
    run_jobs()
    yookassa.advance_clock(601)  # the provider settles the refund
    answer = operator.post(
        "/admin/subscriptions/subscriptionrefund/",
        {"action": "recheck", "_selected_action": [str(refund.pk)]},
        follow=True,
    )

    assert f"Refund {refund.pk}: SUCCEEDED." in answer.content.decode()
    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.REFUNDED


def test_payment_and_refund_pages_link_subscription_and_ledger(operator, cinema, yookassa):
    subscription, payment = _subscription(cinema, yookassa, "user-1")
    recheck_payment(payment_id=payment.pk, now=clock.now())
    refund, _ = request_refund(
        workspace=cinema, subscription_id=subscription.pk, reason="", requested_by="t", now=clock.now()
    )
    run_jobs()
    payment.refresh_from_db()
    refund.refresh_from_db()

    sub_page = operator.get(f"/admin/subscriptions/subscription/{subscription.pk}/change/").content.decode()
    payment_page = operator.get(f"/admin/subscriptions/subscriptionpayment/{payment.pk}/change/").content.decode()
    refund_page = operator.get(f"/admin/subscriptions/subscriptionrefund/{refund.pk}/change/").content.decode()
    transaction_page = operator.get(
        f"/admin/ledger/ledgertransaction/{payment.transaction_id}/change/"
    ).content.decode()

    assert f"/admin/subscriptions/subscriptionpayment/{payment.pk}/change/" in sub_page
    assert f"/admin/subscriptions/subscriptionrefund/{refund.pk}/change/" in sub_page
    assert f"/admin/ledger/ledgertransaction/{payment.transaction_id}/change/" in sub_page
    assert f"/admin/subscriptions/subscription/{subscription.pk}/change/" in payment_page
    assert f"/admin/ledger/ledgertransaction/{payment.transaction_id}/change/" in payment_page
    assert f"/admin/subscriptions/subscriptionpayment/{payment.pk}/change/" in refund_page
    assert f"/admin/ledger/ledgertransaction/{refund.transaction_id}/change/" in refund_page
    assert f"/admin/subscriptions/subscriptionpayment/{payment.pk}/change/" in transaction_page
    assert "299.00 RUB" in refund_page and "29900" not in refund_page
    for html in (sub_page, payment_page, refund_page):
        assert 'name="_save"' not in html
    assert f"subscription of user-1 ({str(subscription.pk)[:8]})" in payment_page


def test_refund_form_says_how_much_goes_back(operator, cinema, yookassa):
    subscription, payment = _subscription(cinema, yookassa, "user-1")
    recheck_payment(payment_id=payment.pk, now=clock.now())

    form = operator.post(
        "/admin/subscriptions/subscription/", {"action": "refund", "_selected_action": [str(subscription.pk)]}
    ).content.decode()

    assert "This refunds 299.00 RUB to the card" in form


def test_dashboard_shows_card_payments_and_refunds_and_probes_the_shop(operator, cinema, yookassa):
    subscription, payment = _subscription(cinema, yookassa, "user-1")
    recheck_payment(payment_id=payment.pk, now=clock.now())
    request_refund(workspace=cinema, subscription_id=subscription.pk, reason="", requested_by="t", now=clock.now())
    run_jobs()

    html = operator.get("/admin/dashboard/").content.decode()

    row = re.search(r'<tr id="money-cinema-RUB">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'class="money today-card-paid">299.00 RUB<', row)
    assert re.search(r'class="money today-card-refunded">299.00 RUB<', row)
    shop = re.search(r'<tr class="(up|down)">\s*<td>payment provider \(cinema\)</td>', html)
    assert shop.group(1) == "up"
