"""Clients: create or update in Balance under the service's own id, and read back."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema, Status

from billy.clients import operations, queries
from billy.clients.models import Client
from billy.clients.validation import MAX_LENGTH
from billy.core import clock
from billy.integrations.balance import get_balance
from billy.workspaces.queries import get_workspace_for

from .errors import ErrorOut
from .strict import StrictSchema

router = Router(tags=["clients"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


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
    status: str = Field(description="PENDING, ACTIVE or NEEDS_ATTENTION.")
    created_at: dt.datetime
    updated_at: dt.datetime


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


@router.put(
    "/workspaces/{workspace}/clients/{service_client_id}",
    response={200: ClientOut, 201: ClientOut, 409: ErrorOut, 502: ErrorOut, 503: ErrorOut, **ERRORS},
    summary="Create or update a client (in Balance too)",
)
def put_client(request, workspace: str, service_client_id: str, payload: ClientIn):
    """201 when this call registered the client in Balance, 200 when it updated it or nothing changed.

    A 503 `upstream_unavailable` carries `Retry-After`; repeating the same call finishes the
    registration without a second Balance client.
    """
    ws = get_workspace_for(request.auth, workspace)
    registration = operations.register_client(
        workspace=ws,
        service_client_id=service_client_id,
        name=payload.name,
        email=payload.email,
        phone=payload.phone,
        balance=get_balance(),
        now=clock.now(),
    )
    return Status(201 if registration.created else 200, _out(registration.client, ws.name))


@router.get(
    "/workspaces/{workspace}/clients/{service_client_id}",
    response={200: ClientOut, **ERRORS},
    summary="Get a client",
)
def get_client(request, workspace: str, service_client_id: str):
    ws = get_workspace_for(request.auth, workspace)
    return Status(200, _out(queries.get_client(workspace=ws, service_client_id=service_client_id), ws.name))
