"""Reads for clients."""

from __future__ import annotations

import datetime as dt

from billy.core.errors import BillyError
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


def stalled_registrations(*, untouched_since: dt.datetime, limit: int = 500) -> list[int]:
    """PENDING clients nobody has moved since `untouched_since`, oldest first."""
    return list(
        Client.objects.filter(status=Client.Status.PENDING, updated_at__lt=untouched_since)
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )
