"""Clients: create or update in Balance under the service's own id, and read back."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from billy.clients import operations, queries
from billy.clients.models import Client
from billy.clients.validation import MAX_LENGTH
from billy.core import clock
from billy.core.pagination import MAX_LIMIT
from billy.integrations.balance import get_balance
from billy.workspaces.queries import get_workspace_for

from .fields import Timestamp
from .keys import keyed_answer
from .openapi import raises
from .strict import StrictSchema, one_of, utc_filter

router = Router(tags=["clients"])

ClientStatus = one_of(Client.Status)


# The field rules live in billy.clients.validation; the schema only documents them.
_TEXT = {"minLength": 1, "maxLength": MAX_LENGTH}


class ClientIn(StrictSchema):
    name: str = Field(description="Shown in Balance.", json_schema_extra=_TEXT)
    email: str = Field(description="A valid email address.", json_schema_extra={**_TEXT, "format": "email"})
    phone: str = Field(
        description="Any common form, e.g. 8 (495) 123-45-67; stored in E.164 (default region RU).",
        json_schema_extra={**_TEXT, "examples": ["+74951234567"]},
    )


class ClientOut(Schema):
    workspace: str
    service_client_id: str
    name: str
    email: str
    phone: str
    status: ClientStatus = Field(description="PENDING, ACTIVE or NEEDS_ATTENTION.")
    created_at: Timestamp
    updated_at: Timestamp


def _out(client: Client, workspace_name: str) -> ClientOut:
    return ClientOut(
        workspace=workspace_name,
        service_client_id=client.service_client_id,
        name=client.name,
        email=client.email,
        phone=client.phone,
        status=client.status,
        created_at=client.created_at,
        updated_at=client.updated_at,
    )


class ClientPage(Schema):
    clients: list[ClientOut]
    next_cursor: str | None


class ClientFilters(Schema):
    status: ClientStatus | None = Field(None, description="PENDING, ACTIVE or NEEDS_ATTENTION (upper case).")
    created_from: dt.datetime | None = Field(None, description="Created at or after (RFC 3339).")
    created_to: dt.datetime | None = Field(None, description="Created before (RFC 3339).")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


@router.get("/workspaces/{workspace}/clients", response={200: ClientPage}, summary="The workspace's clients")
def list_clients(request, workspace: str, filters: Query[ClientFilters]):
    """Newest first; the filters are optional and combine. `next_cursor` is null on the last page."""
    ws = get_workspace_for(request.auth, workspace)
    clients, next_cursor = queries.list_clients(
        workspace=ws,
        limit=filters.limit,
        cursor=filters.cursor,
        status=filters.status,
        created_from=utc_filter("created_from", filters.created_from),
        created_to=utc_filter("created_to", filters.created_to),
    )
    return Status(200, ClientPage(clients=[_out(c, ws.name) for c in clients], next_cursor=next_cursor))


@router.put(
    "/workspaces/{workspace}/clients/{service_client_id}",
    response={200: ClientOut, 201: ClientOut},
    summary="Create or update a client (in Balance too)",
)
@raises("client_needs_attention", "upstream_rejected", "upstream_error", "upstream_unavailable")
def put_client(request, workspace: str, service_client_id: str, payload: ClientIn):
    """201 when this call registered the client in Balance, 200 when it updated it or nothing changed.

    A 503 `upstream_unavailable` carries `Retry-After`; repeating the same call finishes the
    registration without a second Balance client.
    """
    ws = get_workspace_for(request.auth, workspace)

    def run():
        registration = operations.register_client(
            workspace=ws,
            service_client_id=service_client_id,
            name=payload.name,
            email=payload.email,
            phone=payload.phone,
            balance=get_balance(),
            now=clock.now(),
        )
        return 201 if registration.created else 200, _out(registration.client, ws.name)

    return keyed_answer(
        request,
        workspace=ws,
        operation="put_client",
        fingerprint={"service_client_id": service_client_id, **payload.model_dump()},
        run=run,
    )


@router.get(
    "/workspaces/{workspace}/clients/{service_client_id}",
    response={200: ClientOut},
    summary="Get a client",
)
@raises("client_not_found")
def get_client(request, workspace: str, service_client_id: str):
    ws = get_workspace_for(request.auth, workspace)
    return Status(200, _out(queries.get_client(workspace=ws, service_client_id=service_client_id), ws.name))
