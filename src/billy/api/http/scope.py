"""Where a request's resources are: the workspace its key is granted, and a client in it by the
service's own id."""

from __future__ import annotations

from billy.clients.models import Client
from billy.clients.queries import get_client
from billy.workspaces.models import Workspace
from billy.workspaces.queries import get_workspace_for

CLIENT_PATH = "/workspaces/{workspace}/clients/{service_client_id}"


def client_in_scope(request, workspace: str, service_client_id: str) -> tuple[Workspace, Client]:
    """The workspace (granted to the request's key) and its client, with the wallet loaded."""
    ws = get_workspace_for(request.auth, workspace)
    return ws, get_client(workspace=ws, service_client_id=service_client_id, related=("wallet",))
