"""billy.v1.ClientService."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from billy.clients import operations, queries
from billy.clients.models import Client
from billy.core import clock
from billy.integrations.balance import get_balance
from billy.v1 import clients_pb2, clients_pb2_grpc
from billy.workspaces.queries import get_workspace_for

from .enums import enum_number
from .interceptor import current_principal


def timestamp(value) -> Timestamp | None:
    """A protobuf Timestamp of a datetime (None stays unset)."""
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def client_message(client: Client, workspace_name: str) -> clients_pb2.Client:
    return clients_pb2.Client(
        workspace=workspace_name,
        service_client_id=client.service_client_id,
        name=client.name,
        email=client.email,
        phone=client.phone,
        status=enum_number(clients_pb2.ClientStatus, client.status),
        created_at=timestamp(client.created_at),
        updated_at=timestamp(client.updated_at),
    )


class ClientServicer(clients_pb2_grpc.ClientServiceServicer):
    def CreateOrUpdateClient(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        registration = operations.register_client(
            workspace=workspace,
            service_client_id=request.service_client_id,
            name=request.name,
            email=request.email,
            phone=request.phone,
            balance=get_balance(),
            now=clock.now(),
        )
        return clients_pb2.CreateOrUpdateClientResponse(
            client=client_message(registration.client, workspace.name), created=registration.created
        )

    def GetClient(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        client = queries.get_client(workspace=workspace, service_client_id=request.service_client_id)
        return client_message(client, workspace.name)
