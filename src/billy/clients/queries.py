"""Reads for clients."""

from __future__ import annotations

import datetime as dt

from billy.core.errors import BillyError, ValidationFailed
from billy.core.pagination import before_created, check_limit, decode_created_cursor, encode_created_cursor
from billy.core.validation import is_printable_text
from billy.workspaces.models import Workspace

from .models import Client
from .validation import MAX_LENGTH


class ClientNotFound(BillyError):
    code = "client_not_found"
    default_message = "No such client."


def get_client(*, workspace: Workspace, service_client_id: str, related: tuple[str, ...] = ()) -> Client:
    """The client (with `related` joined); raises ClientNotFound (also for an id no client could have)."""
    client = None
    if service_client_id and len(service_client_id) <= MAX_LENGTH and is_printable_text(service_client_id):
        client = (
            Client.objects.select_related("workspace", *related)
            .filter(workspace=workspace, service_client_id=service_client_id)
            .first()
        )
    if client is None:
        raise ClientNotFound(f"No client {service_client_id!r} in workspace {workspace.name!r}.")
    return client


CURSOR_TAG = "client"


def list_clients(
    *,
    workspace: Workspace,
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
) -> tuple[list[Client], str | None]:
    """The workspace's clients, newest first by (created_at, id), filtered; created in
    [created_from, created_to). Raises ValidationFailed (a limit out of range, an unknown status, a
    cursor of another list)."""
    check_limit(limit)
    if status and status not in Client.Status.values:
        raise ValidationFailed({"status": [f"One of {', '.join(Client.Status.values)} (upper case)."]})
    after = decode_created_cursor(cursor, CURSOR_TAG)
    clients = Client.objects.filter(workspace=workspace)
    if status:
        clients = clients.filter(status=status)
    if created_from:
        clients = clients.filter(created_at__gte=created_from)
    if created_to:
        clients = clients.filter(created_at__lt=created_to)
    if after is not None:
        clients = clients.filter(before_created(after))
    page = list(clients.order_by("-created_at", "-id")[: limit + 1])
    last = page[limit - 1] if len(page) > limit else None
    return page[:limit], (encode_created_cursor(CURSOR_TAG, last.created_at, last.id) if last else None)


def stalled_registrations(*, untouched_since: dt.datetime, limit: int = 500) -> list[int]:
    """PENDING clients nobody has moved since `untouched_since`, oldest first."""
    return list(
        Client.objects.filter(status=Client.Status.PENDING, updated_at__lt=untouched_since)
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )
