"""Reads for clients."""

from __future__ import annotations

import datetime as dt
import functools

from django.db import connection

from billy.core.errors import BillyError, ValidationFailed
from billy.core.pagination import before_created, check_limit, decode_created_cursor, encode_created_cursor
from billy.core.postgresql import prepared_cursor
from billy.core.validation import is_printable_text
from billy.workspaces.models import Workspace

from .models import Client
from .validation import MAX_LENGTH


class ClientNotFound(BillyError):
    code = "client_not_found"
    default_message = "No such client."


def get_client(*, workspace: Workspace, service_client_id: str, related: tuple[str, ...] = ()) -> Client:
    """The client (with `related` joined, and `workspace` as its workspace); raises ClientNotFound
    (also for an id no client could have)."""
    client = None
    if service_client_id and len(service_client_id) <= MAX_LENGTH and is_printable_text(service_client_id):
        if related in ((), ("wallet",)):
            client = _client_with_wallet(workspace, service_client_id, with_wallet=bool(related))
        else:
            client = (
                Client.objects.select_related("workspace", *related)
                .filter(workspace=workspace, service_client_id=service_client_id)
                .first()
            )
    if client is None:
        raise ClientNotFound(f"No client {service_client_id!r} in workspace {workspace.name!r}.")
    return client


@functools.cache
def _client_with_wallet_sql() -> tuple[str, list[str], list[str]]:
    """The statement of `_client_with_wallet`, written once from the models: the client's and its
    wallet's columns (every money request reads them; compiling the ORM query each time cost more
    than running it)."""
    wallet_model = Client._meta.get_field("wallet").related_model
    client_fields = [f.attname for f in Client._meta.concrete_fields]
    wallet_fields = [f.attname for f in wallet_model._meta.concrete_fields]
    columns = [f"c.{connection.ops.quote_name(f.column)}" for f in Client._meta.concrete_fields]
    columns += [f"w.{connection.ops.quote_name(f.column)}" for f in wallet_model._meta.concrete_fields]
    sql = (
        f"SELECT {', '.join(columns)} FROM {Client._meta.db_table} c"  # noqa: S608 (names from the models only)
        f" LEFT JOIN {wallet_model._meta.db_table} w ON w.client_id = c.id"
        " WHERE c.workspace_id = %s AND c.service_client_id = %s"
    )
    return sql, client_fields, wallet_fields


def _client_with_wallet(workspace: Workspace, service_client_id: str, *, with_wallet: bool) -> Client | None:
    """The client and, `with_wallet`, its wallet (None if it has none yet), as
    `select_related("workspace", "wallet")` loads them, in one statement written once."""
    sql, client_fields, wallet_fields = _client_with_wallet_sql()
    with prepared_cursor() as cursor:
        cursor.execute(sql, [workspace.pk, service_client_id])
        row = cursor.fetchone()
    if row is None:
        return None
    client = Client.from_db("default", client_fields, row[: len(client_fields)])
    client._state.fields_cache["workspace"] = workspace
    if not with_wallet:
        return client
    wallet = None
    if row[len(client_fields)] is not None:
        wallet_model = Client._meta.get_field("wallet").related_model
        wallet = wallet_model.from_db("default", wallet_fields, row[len(client_fields) :])
        wallet._state.fields_cache["client"] = client
    client._state.fields_cache["wallet"] = wallet
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
