"""Reads for clients."""

from billy.workspaces.models import Workspace

from .models import Client
from .operations import ClientNotFound


def get_client(*, workspace: Workspace, service_client_id: str) -> Client:
    """The client; raises ClientNotFound."""
    client = Client.objects.filter(workspace=workspace, service_client_id=service_client_id).first()
    if client is None:
        raise ClientNotFound(f"No client {service_client_id!r} in workspace {workspace.name!r}.")
    return client
