"""Webhook endpoints over HTTP: the calls, their validation and errors, and where a secret shows."""

from __future__ import annotations

import json

import pytest

from billy.events.models import Event
from billy.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.conftest import NOW, make_api_key, make_workspace

BASE = "/api/v1/workspaces/c2b/webhook-endpoints"
URL = "https://integrator.example/billy"


class Api:
    def __init__(self, http, key):
        self.http, self.key = http, key

    def call(self, method, path="", body=None, key=None):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"}
        if key is not None:
            kwargs["HTTP_IDEMPOTENCY_KEY"] = key
        if body is not None:
            kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
        return getattr(self.http, method)(BASE + path, **kwargs)

    def create(self, body=None, key="k-1"):
        return self.call("post", "", body if body is not None else {"url": URL}, key=key)


@pytest.fixture
def api(workspace, client):
    return Api(client, make_api_key("c2b"))


def error(response):
    return response.status_code, response.json()["error"]["code"]


def test_create_answers_the_endpoint_and_its_secret_once(api):
    response = api.create({"url": URL, "event_types": ["charge.completed"]})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert (body["url"], body["event_types"], body["enabled"]) == (URL, ["charge.completed"], True)
    shown = [
        api.call("get").content,
        api.call("get", f"/{body['id']}").content,
        api.call("patch", f"/{body['id']}", {"enabled": False}).content,
        api.call("get", f"/{body['id']}/deliveries").content,
    ]
    assert all(body["secret"].encode() not in page for page in shown)
    assert all(b"secret" not in page for page in shown)


def test_the_same_idempotency_key_replays_the_creation_and_another_body_conflicts(api):
    first = api.create(key="k-1")
    again = api.create(key="k-1")
    other = api.create({"url": URL + "/other"}, key="k-1")

    assert (again.status_code, again.json()) == (201, first.json())
    assert error(other) == (409, "idempotency_conflict")
    assert WebhookEndpoint.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://integrator.example/x"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "integrator.example/x"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://[::1/x"}, "url"),
        ({"url": "https://integrator.example:99999/"}, "url"),
        ({"url": "https://integrator.example/\x00"}, "url"),
        ({"url": "https://e.example/" + "x" * 2048}, "url"),
        ({"url": ""}, "url"),
        ({"url": URL, "event_types": ["charge.exploded"]}, "event_types"),
        ({"url": URL, "event_types": "charge.completed"}, "event_types"),
        ({"url": URL, "enabled": "true"}, "enabled"),
        ({"url": 42}, "url"),
        ({}, "url"),
    ],
)
def test_invalid_input_is_422_on_its_field_and_writes_nothing(api, body, field):
    response = api.create(body)

    assert error(response) == (422, "validation_failed")
    assert field in response.json()["error"]["details"]["fields"]
    assert WebhookEndpoint.objects.count() == 0


def test_create_needs_an_idempotency_key(api):
    response = api.create(key=None)

    assert error(response) == (422, "validation_failed")
    assert "Idempotency-Key" in response.json()["error"]["details"]["fields"]


def test_update_changes_what_is_given_and_validates_it(api):
    endpoint_id = api.create().json()["id"]

    changed = api.call("patch", f"/{endpoint_id}", {"event_types": ["charge.refunded"], "enabled": False})
    refused = api.call("patch", f"/{endpoint_id}", {"url": "mailto:ops@integrator.example"})

    assert changed.status_code == 200
    assert (changed.json()["url"], changed.json()["event_types"], changed.json()["enabled"]) == (
        URL,
        ["charge.refunded"],
        False,
    )
    assert error(refused) == (422, "validation_failed")
    assert WebhookEndpoint.objects.get().url == URL


def test_rotate_answers_a_new_secret_and_the_overlap(api):
    created = api.create().json()

    rotated = api.call("post", f"/{created['id']}/rotate-secret", {"overlap_seconds": 600}, key="r-1")
    again = api.call("post", f"/{created['id']}/rotate-secret", {"overlap_seconds": 600}, key="r-1")

    assert rotated.status_code == 200, rotated.content
    assert rotated.json()["secret"] not in ("", created["secret"])
    assert rotated.json()["previous_secret_expires_at"] is not None
    assert again.json() == rotated.json()
    assert WebhookEndpoint.objects.get().secrets.count() == 2


@pytest.mark.parametrize("overlap", [-1, 7 * 24 * 3600 + 1, "60", 1.5])
def test_rotate_refuses_an_overlap_out_of_range(api, overlap):
    endpoint_id = api.create().json()["id"]

    response = api.call("post", f"/{endpoint_id}/rotate-secret", {"overlap_seconds": overlap}, key="r-1")

    assert error(response) == (422, "validation_failed")
    assert WebhookEndpoint.objects.get().secrets.count() == 1


def test_delete_removes_the_endpoint_and_then_it_is_not_found(api):
    endpoint_id = api.create().json()["id"]

    deleted = api.call("delete", f"/{endpoint_id}")
    again = api.call("delete", f"/{endpoint_id}")

    assert deleted.status_code == 204
    assert error(again) == (404, "webhook_endpoint_not_found")


@pytest.mark.parametrize("endpoint_id", ["999999", "abc", "0", "99999999999999999999999", "1.0"])
def test_an_unknown_endpoint_is_404(api, endpoint_id):
    assert error(api.call("get", f"/{endpoint_id}")) == (404, "webhook_endpoint_not_found")
    assert error(api.call("get", f"/{endpoint_id}/deliveries")) == (404, "webhook_endpoint_not_found")
    assert error(api.call("post", f"/{endpoint_id}/rotate-secret", {}, key="r")) == (404, "webhook_endpoint_not_found")


def test_another_workspaces_endpoint_is_not_found(api, client):
    make_workspace("realty")
    other = Api(client, make_api_key("realty"))
    endpoint_id = api.create().json()["id"]

    other_path = client.get(
        f"/api/v1/workspaces/realty/webhook-endpoints/{endpoint_id}", HTTP_AUTHORIZATION=f"Bearer {other.key}"
    )

    assert error(other_path) == (404, "webhook_endpoint_not_found")


def test_the_list_is_paged_by_cursor_newest_first(api):
    ids = [api.create({"url": f"{URL}/{i}"}, key=f"k-{i}").json()["id"] for i in range(3)]

    first = api.call("get", "?limit=2").json()
    second = api.call("get", f"?limit=2&cursor={first['next_cursor']}").json()
    bad = api.call("get", "?cursor=nonsense")

    assert [e["id"] for e in first["webhook_endpoints"] + second["webhook_endpoints"]] == ids[::-1]
    assert second["next_cursor"] is None
    assert error(bad) == (422, "validation_failed")


def test_deliveries_are_listed_with_their_attempts_and_replayed(api, workspace):
    endpoint_id = api.create().json()["id"]
    event = Event.objects.create(workspace=workspace, type="test.event", data={}, created_at=NOW)
    delivery = WebhookDelivery.objects.create(
        endpoint_id=endpoint_id,
        event=event,
        status="GIVEN_UP",
        attempt_count=1,
        next_attempt_at=NOW,
        created_at=NOW,
        finished_at=NOW,
    )
    WebhookAttempt.objects.create(delivery=delivery, started_at=NOW, finished_at=NOW, status_code=500, latency_ms=12)

    listed = api.call("get", f"/{endpoint_id}/deliveries?status=GIVEN_UP").json()
    replay = api.call("post", f"/{endpoint_id}/deliveries/{delivery.pk}/replay", {}, key="p-1")
    again = api.call("post", f"/{endpoint_id}/deliveries/{delivery.pk}/replay", {}, key="p-1")
    missing = api.call("post", f"/{endpoint_id}/deliveries/424242/replay", {}, key="p-2")

    assert [(d["event_id"], d["status"]) for d in listed["deliveries"]] == [(event.pk, "GIVEN_UP")]
    assert listed["deliveries"][0]["attempts"][0]["status_code"] == 500
    assert replay.status_code == 202, replay.content
    assert again.json() == replay.json()
    assert WebhookAttempt.objects.filter(delivery=delivery, replay=True).count() == 1
    assert error(missing) == (404, "webhook_delivery_not_found")
    assert error(api.call("get", f"/{endpoint_id}/deliveries?status=LOST")) == (422, "validation_failed")
