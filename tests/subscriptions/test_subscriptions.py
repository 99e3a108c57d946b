"""Subscribe, pay, refund, expire: the operations against the three emulators over loopback.

Jobs run in this process (`run_jobs`); each fault test ends with exactly one charge at the
provider, one activation, one role grant and one notification.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import close_old_connections, connection
from procrastinate.contrib.django import app

from billy.core import clock
from billy.core.errors import InvalidState, UpstreamUnavailable
from billy.events.models import Event
from billy.ledger.models import Account, Entry
from billy.subscriptions.expiry import expire_subscriptions
from billy.subscriptions.janitor import recheck_open_payments
from billy.subscriptions.models import ProviderNotification, Subscription, SubscriptionPayment, SubscriptionRefund
from billy.subscriptions.payments import recheck_payment, submit_payment
from billy.subscriptions.plans import RefundNotAllowed, add_period, refund_amount
from billy.subscriptions.refunds import request_refund, submit_refund
from billy.subscriptions.renewal_switch import cancel_renewal
from billy.subscriptions.subscribe import subscribe as subscribe_user
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS

from .conftest import SHOP_ID, retry_failed_jobs, run_jobs

RETURN_URL = "https://cinema.example/back"


def subscribe(cinema, user_id="user-1", plan="monthly"):
    subscription, payment, _ = subscribe_user(
        workspace=cinema, user_id=user_id, plan_code=plan, return_url=RETURN_URL, now=clock.now()
    )
    return subscription, payment


def subscribe_and_submit(cinema, user_id="user-1", plan="monthly"):
    subscription, payment = subscribe(cinema, user_id, plan)
    payment = submit_payment(payment_id=payment.pk, now=clock.now())
    return subscription, payment


def assert_exactly_once(cinema, yookassa, auth, notifications, *, user_id="user-1"):
    succeeded = [p for p in yookassa.payments() if p["status"] == "succeeded"]
    assert len(succeeded) == 1
    assert Subscription.objects.filter(user_id=user_id, status=Subscription.Status.ACTIVE).count() == 1
    assert SubscriptionPayment.objects.filter(status=SubscriptionPayment.Status.SUCCEEDED).count() == 1
    assert [e["op"] for e in auth.effects()] == ["grant"]
    assert auth.roles("cinema", user_id) == ["subscriber"]
    assert [n["template"] for n in notifications.notifications(user_id=user_id)] == ["subscription_activated"]
    assert Entry.objects.filter(account__kind=Account.Kind.CLEARING).count() == 1
    assert Event.objects.filter(type="subscription.payment_succeeded").count() == 1


def pay_and_process(yookassa, payment):
    """The payer pays on the page; the provider's answer reaches billy through the janitor's re-read."""
    yookassa.pay(str(SubscriptionPayment.objects.get(pk=payment.pk).provider_payment_id))
    recheck_payment(payment_id=payment.pk, now=clock.now())
    run_jobs()


def test_subscribe_creates_a_pending_payment_at_the_provider(cinema, yookassa):
    subscription, payment = subscribe_and_submit(cinema)

    assert subscription.status == Subscription.Status.PENDING
    assert payment.status == SubscriptionPayment.Status.PENDING
    [at_provider] = yookassa.payments()
    assert at_provider["id"] == payment.provider_payment_id
    assert at_provider["amount"] == {"value": "299.00", "currency": "RUB"}
    assert at_provider["metadata"] == {"billy_payment_id": str(payment.pk)}
    assert payment.confirmation_url.endswith("/checkout/" + payment.provider_payment_id)


def test_a_second_subscribe_while_pending_returns_the_same_payment(cinema, yookassa):
    first, first_payment = subscribe_and_submit(cinema)
    second, second_payment, created = subscribe_user(
        workspace=cinema, user_id="user-1", plan_code="monthly", return_url=RETURN_URL, now=clock.now()
    )

    assert (second.pk, second_payment.pk, created) == (first.pk, first_payment.pk, False)
    assert len(yookassa.requests(operation="create_payment")) == 1


def test_paying_activates_grants_and_notifies_once(cinema, yookassa, auth, notifications):
    _, payment = subscribe_and_submit(cinema)

    pay_and_process(yookassa, payment)

    assert_exactly_once(cinema, yookassa, auth, notifications)


def test_provider_500_on_create_then_retry(cinema, yookassa, auth, notifications):
    yookassa.inject("error", operation="create_payment")
    _subscription, payment = subscribe(cinema)
    with pytest.raises(UpstreamUnavailable):
        submit_payment(payment_id=payment.pk, now=clock.now())
    assert SubscriptionPayment.objects.get(pk=payment.pk).status == SubscriptionPayment.Status.NEW

    run_jobs()  # the job deferred with the subscription retries with the same key
    pay_and_process(yookassa, payment)

    assert len(yookassa.payments()) == 1
    assert_exactly_once(cinema, yookassa, auth, notifications)


def test_create_committed_at_the_provider_and_its_answer_lost(cinema, yookassa, auth, notifications):
    yookassa.inject("commit_then_timeout", operation="create_payment", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    yookassa.inject("error", operation="list_payments")  # the immediate look-up fails too
    _subscription, payment = subscribe(cinema)
    with pytest.raises(UpstreamUnavailable):
        submit_payment(payment_id=payment.pk, now=clock.now())

    run_jobs()  # retried with the same key and body: the provider answers with the same payment
    pay_and_process(yookassa, payment)

    bodies = {r["body"] for r in yookassa.requests(operation="create_payment")}
    keys = {r["idempotence_key"] for r in yookassa.requests(operation="create_payment")}
    assert (len(bodies), keys) == (1, {str(payment.pk)})
    assert len(yookassa.payments()) == 1
    assert_exactly_once(cinema, yookassa, auth, notifications)


def test_lost_answer_found_by_metadata_after_the_key_window(cinema, yookassa, auth, notifications, settings):
    yookassa.inject("commit_then_timeout", operation="create_payment", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    yookassa.inject("error", operation="list_payments")
    _, payment = subscribe(cinema)
    with pytest.raises(UpstreamUnavailable):
        submit_payment(payment_id=payment.pk, now=clock.now())

    later = clock.now() + dt.timedelta(seconds=settings.BILLY_PAYMENT_KEY_WINDOW_SECONDS + 1)
    found = submit_payment(payment_id=payment.pk, now=later)

    assert found.status == SubscriptionPayment.Status.PENDING
    assert found.provider_payment_id == yookassa.payments()[0]["id"]
    assert len(yookassa.requests(operation="create_payment")) == 1


def test_payment_never_created_is_failed_after_the_key_window(cinema, yookassa, notifications, settings):
    yookassa.inject("error", operation="create_payment")
    subscription, payment = subscribe(cinema)
    with pytest.raises(UpstreamUnavailable):
        submit_payment(payment_id=payment.pk, now=clock.now())

    later = clock.now() + dt.timedelta(seconds=settings.BILLY_PAYMENT_KEY_WINDOW_SECONDS + 1)
    failed = submit_payment(payment_id=payment.pk, now=later)

    assert (failed.status, failed.failure_reason) == ("FAILED", "not_created_at_provider")
    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.CANCELED
    assert yookassa.payments() == []


def _webhook(client, body: bytes):
    return client.post(
        "/api/v1/workspaces/cinema/providers/yookassa/webhook", data=body, content_type="application/json"
    )


def _notification(event: str, object_id: str) -> bytes:
    import json

    return json.dumps(
        {"type": "notification", "event": event, "object": {"id": object_id, "status": "succeeded"}}
    ).encode()


def test_webhook_delivered_five_times_is_processed_once(cinema, yookassa, auth, notifications, client):
    _, payment = subscribe_and_submit(cinema)
    yookassa.pay(payment.provider_payment_id)

    answers = [_webhook(client, _notification("payment.succeeded", payment.provider_payment_id)) for _ in range(5)]
    run_jobs()

    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["status"] for a in answers] == ["received"] + ["duplicate"] * 4
    assert ProviderNotification.objects.get().deliveries == 5
    assert_exactly_once(cinema, yookassa, auth, notifications)


def test_webhook_lost_janitor_completes_the_payment(cinema, yookassa, auth, notifications, settings):
    _, payment = subscribe_and_submit(cinema)
    yookassa.pay(payment.provider_payment_id)  # no webhook target is registered: nothing reaches billy
    assert SubscriptionPayment.objects.get(pk=payment.pk).status == SubscriptionPayment.Status.PENDING

    later = clock.now() + dt.timedelta(seconds=settings.BILLY_PAYMENT_RECHECK_SECONDS + 1)
    assert recheck_open_payments(now=later) == 1
    run_jobs()

    assert_exactly_once(cinema, yookassa, auth, notifications)


def test_forged_success_for_a_canceled_payment_activates_nothing(cinema, yookassa, auth, notifications, client):
    subscription, payment = subscribe_and_submit(cinema)
    yookassa.cancel(payment.provider_payment_id, reason="insufficient_funds")

    answer = _webhook(client, _notification("payment.succeeded", payment.provider_payment_id))
    run_jobs()

    assert answer.status_code == 200
    assert SubscriptionPayment.objects.get(pk=payment.pk).status == SubscriptionPayment.Status.FAILED
    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.CANCELED
    assert auth.effects() == []
    assert Entry.objects.count() == 0
    assert [n["template"] for n in notifications.notifications()] == ["subscription_payment_failed"]


def test_webhook_for_an_object_billy_did_not_make_is_ignored_at_the_door(cinema, yookassa, client):
    answer = _webhook(client, _notification("payment.succeeded", "2f1e0000-000f-5000-9000-1b68e7b15f3f"))

    assert (answer.status_code, answer.json()["status"]) == (200, "ignored")
    assert run_jobs() == []
    assert ProviderNotification.objects.count() == 0
    assert yookassa.requests() == []


def test_malformed_webhook_is_400_and_stores_nothing(cinema, client):
    answer = _webhook(client, b'{"event": "payment.succeeded"}')

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_failed"
    assert ProviderNotification.objects.count() == 0


def test_auth_api_down_for_a_while(cinema, yookassa, auth, notifications):
    _, payment = subscribe_and_submit(cinema)
    auth.inject("unavailable", count=2)
    yookassa.pay(payment.provider_payment_id)
    recheck_payment(payment_id=payment.pk, now=clock.now())

    grant_outcomes = []
    for _ in range(4):  # the worker's retries, run by hand
        grant_outcomes += [o for name, o in run_jobs() if name == "billy.subscriptions.grant_role"]
        retry_failed_jobs("billy.subscriptions.grant_role")

    assert [o.split(":")[0] for o in grant_outcomes] == ["failed", "failed", "succeeded"]
    assert len(auth.requests()) == 3
    assert_exactly_once(cinema, yookassa, auth, notifications)


def test_two_concurrent_subscribes_make_one_payment(cinema, yookassa, auth, notifications):
    barrier = threading.Barrier(2)
    results = []

    def call():
        try:
            barrier.wait()
            results.append(subscribe_and_submit(cinema))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({payment.pk for _, payment in results}) == 1
    assert len(yookassa.payments()) == 1
    pay_and_process(yookassa, results[0][1])
    assert_exactly_once(cinema, yookassa, auth, notifications)


def test_subscribing_again_while_active_is_refused(cinema, yookassa):
    _, payment = subscribe_and_submit(cinema)
    yookassa.pay(payment.provider_payment_id)
    recheck_payment(payment_id=payment.pk, now=clock.now())

    with pytest.raises(InvalidState):
        subscribe(cinema)


def activate(cinema, yookassa, user_id="user-1", plan="monthly"):
    subscription, payment = subscribe_and_submit(cinema, user_id, plan)
    yookassa.pay(payment.provider_payment_id)
    recheck_payment(payment_id=payment.pk, now=clock.now())
    run_jobs()
    return Subscription.objects.get(pk=subscription.pk)


def test_refund_revokes_the_role_and_notifies(cinema, yookassa, auth, notifications):
    subscription = activate(cinema, yookassa)

    refund, created = request_refund(
        workspace=cinema,
        subscription_id=subscription.pk,
        reason="changed my mind",
        requested_by="test",
        now=clock.now(),
    )
    assert (refund.status, refund.amount, created) == ("PENDING", 29900, True)
    run_jobs()

    refund = SubscriptionRefund.objects.get(pk=refund.pk)
    assert refund.status == SubscriptionRefund.Status.SUCCEEDED
    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.REFUNDED
    assert [r["status"] for r in yookassa.refunds()] == ["succeeded"]
    assert [e["op"] for e in auth.effects()] == ["grant", "revoke"]
    assert auth.roles("cinema", "user-1") == []
    assert [n["template"] for n in notifications.notifications()] == ["subscription_activated", "subscription_refunded"]
    revenue = Account.objects.get(kind=Account.Kind.REVENUE)
    assert sum(e.amount for e in Entry.objects.filter(account=revenue)) == 0


def test_a_notification_sent_again_after_the_subscription_changed_is_the_same_message(cinema, yookassa, notifications):
    """The activation's job ran, the service kept the message, the answer was lost (a timeout, a killed
    worker); the job runs again after a refund: the same key must come with the same body, or the
    service refuses it (409) and the job fails for good."""
    subscription = activate(cinema, yookassa)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args FROM procrastinate_jobs WHERE task_name = 'billy.subscriptions.notify_user'"
            " AND args->>'key' = %s",
            [f"activated-{subscription.pk}"],
        )
        (activation_job,) = [args for (args,) in cursor.fetchall()]
    request_refund(workspace=cinema, subscription_id=subscription.pk, reason="", requested_by="test", now=clock.now())
    run_jobs()

    app.tasks["billy.subscriptions.notify_user"].func(**json.loads(activation_job))

    sent = [n for n in notifications.notifications() if n["template"] == "subscription_activated"]
    assert [n["params"]["status"] for n in sent] == ["ACTIVE"]


def test_refund_is_never_made_twice(cinema, yookassa):
    subscription = activate(cinema, yookassa)

    first, _ = request_refund(
        workspace=cinema, subscription_id=subscription.pk, reason="", requested_by="test", now=clock.now()
    )
    run_jobs()
    second, created = request_refund(
        workspace=cinema, subscription_id=subscription.pk, reason="", requested_by="test", now=clock.now()
    )

    assert (second.pk, created) == (first.pk, False)
    assert len(yookassa.refunds()) == 1


def test_refund_canceled_by_the_provider_fails_and_keeps_the_subscription(cinema, yookassa, auth):
    subscription = activate(cinema, yookassa)
    yookassa.inject("refund_cancel", reason="rejected_by_payee")

    refund, _ = request_refund(
        workspace=cinema, subscription_id=subscription.pk, reason="", requested_by="test", now=clock.now()
    )
    run_jobs()

    refund = SubscriptionRefund.objects.get(pk=refund.pk)
    assert (refund.status, refund.failure_reason) == ("FAILED", "rejected_by_payee")
    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.ACTIVE
    assert auth.roles("cinema", "user-1") == ["subscriber"]
    assert Entry.objects.filter(transaction__kind="CARD_REFUND").count() == 0


def test_refund_in_progress_is_polled_until_it_succeeds(cinema, yookassa, settings):
    subscription = activate(cinema, yookassa)
    yookassa.inject("refund_pending", seconds=600)
    refund, _ = request_refund(
        workspace=cinema, subscription_id=subscription.pk, reason="", requested_by="test", now=clock.now()
    )
    run_jobs()
    assert SubscriptionRefund.objects.get(pk=refund.pk).status == SubscriptionRefund.Status.PENDING

    yookassa.advance_clock(601)  # the provider settles the refund
    later = clock.now() + dt.timedelta(seconds=settings.BILLY_REFUND_POLL_SECONDS + 1)
    recheck_open_payments(now=later)

    assert SubscriptionRefund.objects.get(pk=refund.pk).status == SubscriptionRefund.Status.SUCCEEDED


@pytest.mark.parametrize(
    ("plan", "days_used", "expected"),
    [("monthly", 3, 29900), ("yearly", 0, 299000)],
)
def test_refund_amount_follows_the_plan(cinema, plan, days_used, expected):
    plan_row = cinema.plans.get(code=plan)
    start = clock.now()
    end = add_period(start, plan_row.period, time_zone=cinema.time_zone)

    amount = refund_amount(
        plan=plan_row, paid=plan_row.price, period_start=start, period_end=end, now=start + dt.timedelta(days=days_used)
    )

    assert amount == expected


def test_prorated_refund_counts_unused_whole_days(cinema):
    plan = cinema.plans.get(code="yearly")
    start = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
    end = add_period(start, plan.period, time_zone=cinema.time_zone)  # 365 days

    amount = refund_amount(
        plan=plan, paid=299000, period_start=start, period_end=end, now=start + dt.timedelta(days=100, hours=1)
    )

    assert amount == round(299000 * 264 / 365)


def test_full_refund_window_closes(cinema):
    plan = cinema.plans.get(code="monthly")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    with pytest.raises(RefundNotAllowed):
        refund_amount(
            plan=plan,
            paid=29900,
            period_start=start,
            period_end=start + dt.timedelta(days=31),
            now=start + dt.timedelta(days=14),
        )


def test_expiry_revokes_the_role_once_even_when_the_job_runs_twice(cinema, yookassa, auth, notifications):
    subscription = activate(cinema, yookassa)
    cancel_renewal(workspace=cinema, subscription_id=str(subscription.pk), now=clock.now())
    end = subscription.period_end

    assert expire_subscriptions(now=end - dt.timedelta(seconds=1)) == 0
    assert expire_subscriptions(now=end) == 1
    assert expire_subscriptions(now=end + dt.timedelta(minutes=1)) == 0
    run_jobs()

    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.EXPIRED
    assert [e["op"] for e in auth.effects()] == ["grant", "revoke"]
    assert auth.roles("cinema", "user-1") == []


def test_month_period_is_a_calendar_month_in_the_workspace_time_zone():
    start = dt.datetime(2026, 1, 31, 10, tzinfo=dt.UTC)

    assert add_period(start, "MONTH", time_zone="Europe/Moscow") == dt.datetime(2026, 2, 28, 10, tzinfo=dt.UTC)
    assert add_period(start, "YEAR", time_zone="Europe/Moscow") == dt.datetime(2027, 1, 31, 10, tzinfo=dt.UTC)


def test_recording_a_payment_locks_neither_its_plan_nor_its_workspace(cinema, yookassa):
    """Locking the joined plan row would serialise every payment of a plan (and deadlocked under load)."""
    import psycopg
    from django.db import connection

    from tests.conftest import database_url_for_children

    _, payment = subscribe_and_submit(cinema)
    yookassa.pay(payment.provider_payment_id)
    with psycopg.connect(database_url_for_children()) as other:
        other.execute("SELECT 1 FROM plan FOR NO KEY UPDATE")  # as an operator editing it does
        other.execute("SELECT 1 FROM workspace FOR NO KEY UPDATE")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        try:
            recorded = recheck_payment(payment_id=payment.pk, now=clock.now())
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")

    assert recorded.status == SubscriptionPayment.Status.SUCCEEDED


def test_a_refused_read_never_fails_a_refund(cinema, yookassa, settings):
    subscription = activate(cinema, yookassa)
    yookassa.inject("refund_pending", seconds=600)
    refund, _ = request_refund(
        workspace=cinema, subscription_id=subscription.pk, reason="", requested_by="test", now=clock.now()
    )
    run_jobs()
    type(cinema).objects.filter(pk=cinema.pk).update(yookassa_shop_id="999")  # another shop: reads are refused

    with pytest.raises(UpstreamUnavailable):
        submit_refund(refund_id=refund.pk, now=clock.now())
    assert SubscriptionRefund.objects.get(pk=refund.pk).status == SubscriptionRefund.Status.PENDING

    type(cinema).objects.filter(pk=cinema.pk).update(yookassa_shop_id=SHOP_ID)
    yookassa.advance_clock(601)  # the provider settles the refund
    assert submit_refund(refund_id=refund.pk, now=clock.now()).status == SubscriptionRefund.Status.SUCCEEDED
    assert len(yookassa.refunds()) == 1


def test_the_janitor_goes_on_past_a_payment_it_cannot_read(cinema, yookassa, settings):
    _, broken = subscribe_and_submit(cinema, "user-1")
    _, paid = subscribe_and_submit(cinema, "user-2")
    SubscriptionPayment.objects.filter(pk=broken.pk).update(provider_payment_id="2f1e0000-000f-5000-9000-000000000000")
    yookassa.pay(paid.provider_payment_id)

    later = clock.now() + dt.timedelta(seconds=settings.BILLY_PAYMENT_RECHECK_SECONDS + 1)
    assert recheck_open_payments(now=later) == 2

    assert SubscriptionPayment.objects.get(pk=paid.pk).status == SubscriptionPayment.Status.SUCCEEDED
    assert SubscriptionPayment.objects.get(pk=broken.pk).status == SubscriptionPayment.Status.PENDING


def test_expiry_keeps_a_role_another_active_subscription_needs(cinema, yookassa, auth, notifications):
    monthly = activate(cinema, yookassa, plan="monthly")
    activate(cinema, yookassa, plan="yearly")
    cancel_renewal(workspace=cinema, subscription_id=str(monthly.pk), now=clock.now())

    assert expire_subscriptions(now=monthly.period_end) == 1
    run_jobs()

    assert auth.roles("cinema", "user-1") == ["subscriber"]
    assert [e["op"] for e in auth.effects()] == ["grant", "grant"]


def test_a_forged_notification_does_not_use_up_the_real_ones_key(cinema, yookassa, auth, notifications, client):
    _, payment = subscribe_and_submit(cinema)
    _webhook(client, _notification("payment.succeeded", payment.provider_payment_id))  # still pending
    run_jobs()
    assert ProviderNotification.objects.get().status == ProviderNotification.Status.IGNORED

    yookassa.pay(payment.provider_payment_id)
    _webhook(client, _notification("payment.succeeded", payment.provider_payment_id))  # the real one
    run_jobs()

    assert_exactly_once(cinema, yookassa, auth, notifications)


@pytest.mark.parametrize(
    "body",
    [
        b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "' + b"x" * 65 + b'"}}',
        b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "a\\u0000b"}}',
        b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "\\ud800"}}',
        '{"type": "notification", "event": "payment.succeeded", "object": {"id": "x"}}'.encode("utf-16"),
        b"[" * 200_000,
        b"\xff\xfe",
    ],
)
def test_forged_webhook_bodies_are_refused_without_a_500(cinema, client, body):
    answer = _webhook(client, body)

    assert answer.status_code == 422
    assert ProviderNotification.objects.count() == 0
