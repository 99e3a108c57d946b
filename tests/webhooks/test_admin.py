"""The admin shows endpoints and the delivery log, never a secret, and replays a delivery."""

from __future__ import annotations

from django.db import connection

from billy.events.models import Event
from billy.webhooks.endpoints import create_endpoint
from billy.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.conftest import NOW


def test_admin_pages_list_endpoints_and_deliveries_without_a_secret_and_replay(workspace, admin_client):
    made = create_endpoint(
        workspace=workspace, url="https://integrator.example/hooks", event_types=[], enabled=True, now=NOW
    )
    event = Event.objects.create(workspace=workspace, type="test.event", data={}, created_at=NOW)
    delivery = WebhookDelivery.objects.create(
        endpoint=made.endpoint, event=event, status="GIVEN_UP", next_attempt_at=NOW, created_at=NOW, finished_at=NOW
    )
    WebhookAttempt.objects.create(delivery=delivery, started_at=NOW, finished_at=NOW, error="ConnectError: refused")

    pages = [
        admin_client.get("/admin/webhooks/webhookendpoint/"),
        admin_client.get(f"/admin/webhooks/webhookendpoint/{made.endpoint.pk}/change/"),
        admin_client.get("/admin/webhooks/webhookdelivery/?status__exact=GIVEN_UP"),
        admin_client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/"),
    ]
    replay = admin_client.post(
        "/admin/webhooks/webhookdelivery/", {"action": "replay", "_selected_action": [delivery.pk]}, follow=True
    )

    assert [p.status_code for p in pages] == [200, 200, 200, 200]
    assert all(made.secret.encode() not in p.content for p in pages)
    assert b"ConnectError: refused" in pages[3].content
    assert replay.status_code == 200
    assert WebhookAttempt.objects.filter(delivery=delivery, replay=True).count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'billy.webhooks.send_replay'")
        assert cursor.fetchone()[0] == 1


def test_admin_disables_an_endpoint_through_the_operation(workspace, admin_client):
    made = create_endpoint(
        workspace=workspace, url="https://integrator.example/hooks", event_types=[], enabled=True, now=NOW
    )

    admin_client.post("/admin/webhooks/webhookendpoint/", {"action": "disable", "_selected_action": [made.endpoint.pk]})

    made.endpoint.refresh_from_db()
    assert made.endpoint.enabled is False
