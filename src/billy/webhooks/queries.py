"""Reads for webhooks: endpoints and their delivery log, newest first, by cursor."""

from __future__ import annotations

from django.db.models import Prefetch

from billy.core.pagination import check_limit, decode_id_cursor, encode_id_cursor
from billy.workspaces.models import Workspace

from .endpoints import get_endpoint
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def list_endpoints(*, workspace: Workspace, limit: int, cursor: str | None) -> tuple[list[WebhookEndpoint], str | None]:
    check_limit(limit)
    query = WebhookEndpoint.objects.filter(workspace=workspace).order_by("-id")
    before = decode_id_cursor(cursor)
    if before is not None:
        query = query.filter(pk__lt=before)
    items = list(query[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return items, (encode_id_cursor(items[-1].pk) if more else None)


def list_deliveries(
    *, workspace: Workspace, endpoint_id: int | str, status: str | None, limit: int, cursor: str | None
) -> tuple[list[WebhookDelivery], str | None]:
    """The endpoint's deliveries with their attempts (oldest first). Raises WebhookEndpointNotFound."""
    check_limit(limit)
    endpoint = get_endpoint(workspace=workspace, endpoint_id=endpoint_id)
    query = (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related(Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("id")))
        .order_by("-id")
    )
    if status is not None:
        query = query.filter(status=status)
    before = decode_id_cursor(cursor)
    if before is not None:
        query = query.filter(pk__lt=before)
    items = list(query[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return items, (encode_id_cursor(items[-1].pk) if more else None)
