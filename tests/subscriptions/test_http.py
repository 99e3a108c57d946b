"""The subscription API: plans, subscribe with Idempotency-Key, reads, refund, webhook access."""

from __future__ import annotations

import json

import pytest

from billy.idempotency.models import IdempotencyKey
from billy.subscriptions.models import Subscription, SubscriptionPayment
from tests.api.conventions import assert_one_timestamp_format

from .conftest import run_jobs

BODY = {"plan": "monthly", "return_url": "https://cinema.example/back"}


class Api:
    def __init__(self, http, key):
        self.http, self.key = http, key

    def call(self, method, path, body=None, *, idempotency_key=None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"}
        if idempotency_key is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
        if body is not None:
            headers |= {"data": json.dumps(body), "content_type": "application/json"}
        return getattr(self.http, method)("/api/v1/workspaces/cinema" + path, **headers)


@pytest.fixture
def api(client, cinema_key):
    return Api(client, cinema_key)


def subscribe(api, key="key-1", user="user-1", body=BODY):
    return api.call("post", f"/users/{user}/subscriptions", body, idempotency_key=key)


def test_plans_are_listed_with_money_as_strings(api):
    answer = api.call("get", "/plans")

    assert answer.status_code == 200
    assert [(p["code"], p["price"], p["period"], p["refund_policy"]) for p in answer.json()["plans"]] == [
        ("monthly", "299.00", "MONTH", "FULL"),
        ("yearly", "2990.00", "YEAR", "PRORATED"),
    ]


def test_subscribe_answers_201_with_the_payment_page(api, yookassa):
    answer = subscribe(api)

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["status"], body["plan"], body["user_id"]) == ("PENDING", "monthly", "user-1")
    assert body["payment"]["status"] == "PENDING"
    assert body["payment"]["amount"] == "299.00"
    assert body["payment"]["confirmation_url"].startswith("http://127.0.0.1:")
    assert (body["period_start"], body["period_end"]) == (None, None)  # no period until it starts


def test_a_subscription_shows_its_period_once_it_starts(api, yookassa):
    from billy.core import clock
    from billy.subscriptions.payments import recheck_payment

    created = subscribe(api).json()
    yookassa.pay(created["payment"]["provider_payment_id"])
    recheck_payment(payment_id=created["payment"]["payment_id"], now=clock.now())

    active = api.call("get", f"/subscriptions/{created['id']}").json()

    assert (active["status"], active["period_start"]) == ("ACTIVE", active["activated_at"])
    assert active["period_end"] > active["period_start"]


def test_subscription_answers_write_timestamps_one_way(api, yookassa):
    from billy.core import clock
    from billy.subscriptions.payments import recheck_payment

    created = subscribe(api)
    yookassa.pay(created.json()["payment"]["provider_payment_id"])
    recheck_payment(payment_id=created.json()["payment"]["payment_id"], now=clock.now())
    refund = api.call("post", f"/subscriptions/{created.json()['id']}/refund", {}, idempotency_key="r-1")
    run_jobs()
    answers = [
        created,
        refund,
        api.call("get", f"/subscriptions/{created.json()['id']}"),
        api.call("get", "/users/user-1/subscriptions"),
    ]

    seen = assert_one_timestamp_format(*answers)

    assert {
        ".created_at",
        ".payment.created_at",
        ".period_start",
        ".period_end",
        ".activated_at",
        ".ended_at",
        ".payments[].succeeded_at",
        ".refunds[].succeeded_at",
        ".subscriptions[].period_end",
    } <= seen


def test_same_key_and_body_replays_the_first_answer(api, yookassa):
    first = subscribe(api)
    second = subscribe(api)

    assert (second.status_code, second.json()) == (201, first.json())
    assert len(yookassa.requests(operation="create_payment")) == 1


def test_same_key_with_another_body_is_a_conflict(api, yookassa):
    subscribe(api)
    answer = subscribe(api, body={**BODY, "plan": "yearly"})

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "idempotency_conflict"
    assert Subscription.objects.count() == 1


def test_another_key_while_pending_returns_the_pending_payment(api, yookassa):
    first = subscribe(api, key="key-1")
    second = subscribe(api, key="key-2")

    assert second.status_code == 200
    assert second.json()["payment"]["payment_id"] == first.json()["payment"]["payment_id"]
    assert len(yookassa.payments()) == 1


def test_subscribe_without_idempotency_key_is_refused_before_anything_is_written(api, yookassa):
    answer = api.call("post", "/users/user-1/subscriptions", BODY)

    assert answer.status_code == 422
    assert "Idempotency-Key" in answer.json()["error"]["details"]["fields"]
    assert (Subscription.objects.count(), yookassa.payments()) == (0, [])


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({**BODY, "plan": "weekly"}, None, "plan_not_found"),
        ({**BODY, "return_url": "javascript:alert(1)"}, "return_url", "validation_failed"),
        ({**BODY, "return_url": "x" * 3000}, "return_url", "validation_failed"),
        ({**BODY, "return_url": "http://[::1"}, "return_url", "validation_failed"),
        ({"plan": "monthly"}, None, "validation_failed"),
    ],
)
def test_bad_subscribe_input_gets_a_stable_code_and_writes_nothing(api, yookassa, body, field, code):
    answer = subscribe(api, body=body)

    assert answer.status_code in (404, 422)
    assert answer.json()["error"]["code"] == code
    assert (Subscription.objects.count(), yookassa.payments()) == (0, [])


def test_an_invalid_request_is_replayed_for_its_key(api, yookassa):
    bad = {**BODY, "return_url": "ftp://x"}
    first = subscribe(api, body=bad)
    second = subscribe(api, body=bad)

    def envelope(answer):  # each answer names its own request
        error = dict(answer.json()["error"])
        assert error.pop("request_id") == answer["Request-Id"]
        return error

    assert (first.status_code, second.status_code, envelope(second)) == (422, 422, envelope(first))
    assert IdempotencyKey.objects.get().response_status == 422


def test_a_refusal_that_may_change_is_not_kept_for_the_key(api, yookassa, cinema):
    missing = subscribe(api, body={**BODY, "plan": "weekly"})
    cinema.plans.filter(code="yearly").update(code="weekly")
    found = subscribe(api, body={**BODY, "plan": "weekly"})

    assert (missing.status_code, found.status_code) == (404, 201)


def test_a_retry_after_503_resumes_the_keys_own_subscription(api, yookassa):
    yookassa.inject("error", operation="create_payment")
    yookassa.inject("error", operation="list_payments")
    down = subscribe(api)
    Subscription.objects.update(status="CANCELED")  # whatever happened meanwhile, the key names this one
    again = subscribe(api)

    assert (down.status_code, again.status_code) == (503, 201)
    assert Subscription.objects.count() == 1
    assert len(yookassa.payments()) == 1


def test_provider_down_is_503_with_retry_after_and_the_same_key_resumes(api, yookassa):
    yookassa.inject("error", operation="create_payment")
    yookassa.inject("error", operation="list_payments")
    down = subscribe(api)
    again = subscribe(api)

    assert down.status_code == 503
    assert down["Retry-After"]
    assert again.status_code == 201
    assert again.json()["payment"]["status"] == "PENDING"
    assert len(yookassa.payments()) == 1


def test_workspace_without_a_shop_is_refused(client, transactional_db, jobs_cleanup):
    from tests.conftest import make_api_key, make_workspace

    make_workspace("c2b")
    key = make_api_key("c2b")
    answer = client.post(
        "/api/v1/workspaces/c2b/users/u/subscriptions",
        data=json.dumps(BODY),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert answer.status_code in (404, 409)
    assert answer.json()["error"]["code"] in ("plan_not_found", "payment_provider_not_configured")


def test_get_subscription_and_list_a_users_subscriptions(api, yookassa):
    created = subscribe(api).json()

    one = api.call("get", f"/subscriptions/{created['id']}")
    listed = api.call("get", "/users/user-1/subscriptions?limit=1")

    assert one.status_code == 200
    assert [p["payment_id"] for p in one.json()["payments"]] == [created["payment"]["payment_id"]]
    assert [s["id"] for s in listed.json()["subscriptions"]] == [created["id"]]
    assert listed.json()["next_cursor"] is None


def test_list_pages_with_a_cursor(api, yookassa):
    ids = [subscribe(api, key=f"k-{plan}", body={**BODY, "plan": plan}).json()["id"] for plan in ("monthly", "yearly")]

    first = api.call("get", "/users/user-1/subscriptions?limit=1").json()
    second = api.call("get", f"/users/user-1/subscriptions?limit=1&cursor={first['next_cursor']}").json()

    assert [s["id"] for s in first["subscriptions"] + second["subscriptions"]] == ids[::-1]
    assert second["next_cursor"] is None


@pytest.mark.parametrize("subscription_id", ["nope", "00000000-0000-0000-0000-000000000000", "%00"])
def test_unknown_subscription_is_404(api, subscription_id):
    answer = api.call("get", f"/subscriptions/{subscription_id}")

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "subscription_not_found"


def test_bad_cursor_is_422(api):
    answer = api.call("get", "/users/user-1/subscriptions?cursor=bogus")

    assert answer.status_code == 422


def test_refund_answers_202_then_repeats_answer_the_same_refund(api, yookassa):
    created = subscribe(api).json()
    yookassa.pay(created["payment"]["provider_payment_id"])
    from billy.core import clock
    from billy.subscriptions.payments import recheck_payment

    recheck_payment(payment_id=created["payment"]["payment_id"], now=clock.now())

    first = api.call("post", f"/subscriptions/{created['id']}/refund", {"reason": "r"}, idempotency_key="r-1")
    replay = api.call("post", f"/subscriptions/{created['id']}/refund", {"reason": "r"}, idempotency_key="r-1")
    other_key = api.call("post", f"/subscriptions/{created['id']}/refund", {"reason": "r"}, idempotency_key="r-2")
    run_jobs()

    assert (first.status_code, first.json()["status"], first.json()["amount"]) == (202, "PENDING", "299.00")
    assert replay.json() == first.json()
    assert (other_key.status_code, other_key.json()["refund_id"]) == (200, first.json()["refund_id"])
    assert len(yookassa.refunds()) == 1


def test_card_payments_and_refunds_name_their_subscription_in_the_ledger(api, yookassa):
    from billy.core import clock
    from billy.ledger.models import LedgerTransaction
    from billy.subscriptions.payments import recheck_payment

    created = subscribe(api).json()
    yookassa.pay(created["payment"]["provider_payment_id"])
    recheck_payment(payment_id=created["payment"]["payment_id"], now=clock.now())
    refund = api.call("post", f"/subscriptions/{created['id']}/refund", {}, idempotency_key="r-1").json()
    run_jobs()

    sources = dict(LedgerTransaction.objects.values_list("kind", "source"))

    assert sources == {
        "CARD_PAYMENT": {"subscription_id": created["id"], "payment_id": created["payment"]["payment_id"]},
        "CARD_REFUND": {
            "subscription_id": created["id"],
            "payment_id": created["payment"]["payment_id"],
            "refund_id": refund["refund_id"],
        },
    }


def test_refund_of_a_pending_subscription_is_409(api, yookassa):
    created = subscribe(api).json()

    answer = api.call("post", f"/subscriptions/{created['id']}/refund", {}, idempotency_key="r-1")

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "invalid_state"
    assert SubscriptionPayment.objects.get().refunds.count() == 0


def test_other_workspaces_key_gets_404(client, cinema):
    from tests.conftest import make_api_key, make_workspace

    make_workspace("c2b")
    key = make_api_key("c2b")

    answer = client.get("/api/v1/workspaces/cinema/plans", HTTP_AUTHORIZATION=f"Bearer {key}")

    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "workspace_not_found")


def test_webhook_from_outside_the_allowlist_is_403(client, cinema, settings):
    settings.YOOKASSA_WEBHOOK_ALLOWED_NETWORKS = ["185.71.76.0/27"]

    answer = client.post(
        "/api/v1/workspaces/cinema/providers/yookassa/webhook",
        data=b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "x"}}',
        content_type="application/json",
    )

    assert answer.status_code == 403


def test_webhook_for_an_unknown_workspace_is_404(client, cinema):
    answer = client.post(
        "/api/v1/workspaces/nowhere/providers/yookassa/webhook", data=b"{}", content_type="application/json"
    )

    assert answer.status_code == 404
