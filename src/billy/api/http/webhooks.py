"""Webhook endpoints over HTTP: create, list, get, update, delete, rotate the secret; the delivery
log and manual replay.

Create, rotate and replay make something the consumer does not name, so they take an
`Idempotency-Key` header (the same key and request replay the first answer). The secret is in the
answers of create and rotate only.
"""

from __future__ import annotations

from ninja import Field, Query, Router, Schema, Status

from billy.core import clock
from billy.core.pagination import MAX_LIMIT
from billy.events.registry import EVENT_TYPES
from billy.webhooks import delivery as webhook_delivery
from billy.webhooks import endpoints, queries
from billy.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from billy.workspaces.queries import get_workspace_for

from .errors import with_request_id
from .fields import Timestamp
from .keys import idempotency_key, keyed_answer
from .openapi import raises, requires_idempotency_key
from .rendering import json_data, json_response
from .strict import StrictSchema, one_of

router = Router(tags=["webhook endpoints"])

DeliveryStatus = one_of(WebhookDelivery.Status)
PATH = "/workspaces/{workspace}/webhook-endpoints"
_URL = {"minLength": 1, "maxLength": endpoints.MAX_URL_LENGTH, "examples": ["https://integrator.example/billy"]}
_TYPES = {"items": {"enum": sorted(EVENT_TYPES)}, "examples": [["charge.completed", "charge.refunded"]]}


class EndpointIn(StrictSchema):
    url: str = Field(description="An absolute http:// or https:// URL.", json_schema_extra=_URL)
    event_types: list[str] = Field(
        default_factory=list, description="The event types to send; empty: all.", json_schema_extra=_TYPES
    )
    enabled: bool = True


class EndpointPatch(StrictSchema):
    url: str | None = Field(None, json_schema_extra=_URL)
    event_types: list[str] | None = Field(None, description="Empty: all.", json_schema_extra=_TYPES)
    enabled: bool | None = Field(None, description="false pauses deliveries; true resumes them where they stopped.")


class RotateIn(StrictSchema):
    overlap_seconds: int = Field(
        endpoints.DEFAULT_OVERLAP_SECONDS,
        description="How long the old secret keeps signing too (default 24 h; 0: it stops at once).",
        json_schema_extra={"minimum": 0, "maximum": endpoints.MAX_OVERLAP_SECONDS},
    )


class EndpointOut(Schema):
    id: int
    url: str
    event_types: list[str] = Field(description="Empty: all.")
    enabled: bool
    created_at: Timestamp
    updated_at: Timestamp


class EndpointWithSecretOut(EndpointOut):
    secret: str = Field(description="The signing secret (whsec_...): shown in this answer only.")
    previous_secret_expires_at: Timestamp | None = Field(
        None, description="After a rotation: until when the old secret signs too."
    )


class EndpointPage(Schema):
    webhook_endpoints: list[EndpointOut]
    next_cursor: str | None


class AttemptOut(Schema):
    started_at: Timestamp
    finished_at: Timestamp | None = Field(description="None: in flight, or its outcome was never recorded.")
    status_code: int | None = Field(description="The receiver's HTTP status; None when there was none.")
    error: str = Field(description="Why there is no status: a timeout, a refused connection, ...")
    latency_ms: int | None
    replay: bool


class DeliveryOut(Schema):
    id: int
    event_id: int
    event_type: str
    status: DeliveryStatus = Field(description="PENDING (being sent or retried), DELIVERED or GIVEN_UP.")
    attempt_count: int = Field(description="Attempts of the retry schedule (replays not counted).")
    next_attempt_at: Timestamp | None
    created_at: Timestamp
    finished_at: Timestamp | None
    attempts: list[AttemptOut] = Field(description="Oldest first.")


class DeliveryFilters(Schema):
    status: DeliveryStatus | None = Field(None, description="PENDING, DELIVERED or GIVEN_UP (upper case).")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


class DeliveryPage(Schema):
    deliveries: list[DeliveryOut]
    next_cursor: str | None


def endpoint_data(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "enabled": endpoint.enabled,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def attempt_data(attempt: WebhookAttempt) -> dict:
    return {
        "started_at": attempt.started_at,
        "finished_at": attempt.finished_at,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "latency_ms": attempt.latency_ms,
        "replay": attempt.replay,
    }


def delivery_data(delivery: WebhookDelivery) -> dict:
    pending = delivery.status == WebhookDelivery.Status.PENDING
    return {
        "id": delivery.pk,
        "event_id": delivery.event_id,
        "event_type": delivery.event.type,
        "status": delivery.status,
        "attempt_count": delivery.attempt_count,
        "next_attempt_at": delivery.next_attempt_at if pending else None,
        "created_at": delivery.created_at,
        "finished_at": delivery.finished_at,
        "attempts": [attempt_data(a) for a in sorted(delivery.attempts.all(), key=lambda a: a.pk)],
    }


def _json(schema: type[Schema], data: dict) -> dict:
    return json_data(schema(**data).model_dump())  # timestamps as every answer writes them


def _secret_answer(status: int):
    def answer(made: endpoints.NewSecret) -> tuple[int, dict]:
        data = {
            **endpoint_data(made.endpoint),
            "secret": made.secret,
            "previous_secret_expires_at": made.previous_secret_expires_at,
        }
        return status, _json(EndpointWithSecretOut, data)

    return answer


@router.post(PATH, response={201: EndpointWithSecretOut}, summary="Add a webhook endpoint (needs Idempotency-Key)")
@requires_idempotency_key
def create_webhook_endpoint(request, workspace: str, payload: EndpointIn):
    """201 with the endpoint and its signing `secret`, shown in this answer only (a retry with the
    same Idempotency-Key replays it). It is sent the events written from now on."""
    status, body = endpoints.create_endpoint_with_key(
        workspace=get_workspace_for(request.auth, workspace),
        url=payload.url,
        event_types=payload.event_types,
        enabled=payload.enabled,
        key=idempotency_key(request),
        answer=_secret_answer(201),
        now=clock.now(),
    )
    return json_response(with_request_id(body), status=status)


@router.get(PATH, response={200: EndpointPage}, summary="The workspace's webhook endpoints, newest first")
def list_webhook_endpoints(
    request, workspace: str, limit: int = Query(50, ge=1, le=MAX_LIMIT), cursor: str | None = None
):
    ws = get_workspace_for(request.auth, workspace)
    items, next_cursor = queries.list_endpoints(workspace=ws, limit=limit, cursor=cursor)
    return Status(
        200, EndpointPage(webhook_endpoints=[EndpointOut(**endpoint_data(e)) for e in items], next_cursor=next_cursor)
    )


@router.get(PATH + "/{endpoint_id}", response={200: EndpointOut}, summary="A webhook endpoint")
@raises("webhook_endpoint_not_found")
def get_webhook_endpoint(request, workspace: str, endpoint_id: str):
    ws = get_workspace_for(request.auth, workspace)
    return Status(200, EndpointOut(**endpoint_data(endpoints.get_endpoint(workspace=ws, endpoint_id=endpoint_id))))


@router.patch(PATH + "/{endpoint_id}", response={200: EndpointOut}, summary="Change a webhook endpoint")
@raises("webhook_endpoint_not_found")
def update_webhook_endpoint(request, workspace: str, endpoint_id: str, payload: EndpointPatch):
    """Fields left out (or null) stay as they are."""
    ws = get_workspace_for(request.auth, workspace)

    def run():
        endpoint = endpoints.update_endpoint(
            workspace=ws,
            endpoint_id=endpoint_id,
            url=payload.url,
            event_types=payload.event_types,
            enabled=payload.enabled,
            now=clock.now(),
        )
        return 200, EndpointOut(**endpoint_data(endpoint))

    return keyed_answer(
        request,
        workspace=ws,
        operation="update_webhook_endpoint",
        fingerprint={"endpoint_id": endpoint_id, **payload.model_dump()},
        run=run,
    )


@router.delete(PATH + "/{endpoint_id}", response={204: None}, summary="Delete a webhook endpoint")
@raises("webhook_endpoint_not_found")
def delete_webhook_endpoint(request, workspace: str, endpoint_id: str):
    """The endpoint goes with its delivery log; nothing more is sent to it."""
    ws = get_workspace_for(request.auth, workspace)

    def run():
        endpoints.delete_endpoint(workspace=ws, endpoint_id=endpoint_id)
        return 204, None

    return keyed_answer(
        request, workspace=ws, operation="delete_webhook_endpoint", fingerprint={"endpoint_id": endpoint_id}, run=run
    )


@router.post(
    PATH + "/{endpoint_id}/rotate-secret",
    response={200: EndpointWithSecretOut},
    summary="Make a new signing secret (needs Idempotency-Key)",
)
@raises("webhook_endpoint_not_found")
@requires_idempotency_key
def rotate_webhook_endpoint_secret(request, workspace: str, endpoint_id: str, payload: RotateIn):
    """200 with the new `secret` (shown in this answer only). Until `previous_secret_expires_at`,
    deliveries carry a signature by the old secret too."""
    status, body = endpoints.rotate_secret_with_key(
        workspace=get_workspace_for(request.auth, workspace),
        endpoint_id=endpoint_id,
        overlap_seconds=payload.overlap_seconds,
        key=idempotency_key(request),
        answer=_secret_answer(200),
        now=clock.now(),
    )
    return json_response(with_request_id(body), status=status)


@router.get(
    PATH + "/{endpoint_id}/deliveries",
    response={200: DeliveryPage},
    summary="The endpoint's delivery log, newest first",
)
@raises("webhook_endpoint_not_found")
def list_webhook_deliveries(request, workspace: str, endpoint_id: str, filters: Query[DeliveryFilters]):
    ws = get_workspace_for(request.auth, workspace)
    items, next_cursor = queries.list_deliveries(
        workspace=ws, endpoint_id=endpoint_id, status=filters.status, limit=filters.limit, cursor=filters.cursor
    )
    return Status(
        200, DeliveryPage(deliveries=[DeliveryOut(**delivery_data(d)) for d in items], next_cursor=next_cursor)
    )


@router.post(
    PATH + "/{endpoint_id}/deliveries/{delivery_id}/replay",
    response={202: DeliveryOut},
    summary="Send a delivery's event again (needs Idempotency-Key)",
)
@raises("webhook_endpoint_not_found", "webhook_delivery_not_found")
@requires_idempotency_key
def replay_webhook_delivery(request, workspace: str, endpoint_id: str, delivery_id: str):
    """202: a new attempt with the same event id is made shortly, whatever the delivery's state; a
    success makes a given-up delivery DELIVERED."""
    status, body = webhook_delivery.replay_delivery_with_key(
        workspace=get_workspace_for(request.auth, workspace),
        endpoint_id=endpoint_id,
        delivery_id=delivery_id,
        key=idempotency_key(request),
        answer=lambda delivery: (202, _json(DeliveryOut, delivery_data(delivery))),
        now=clock.now(),
    )
    return json_response(with_request_id(body), status=status)
