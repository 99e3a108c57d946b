"""Reads for workspaces and API keys: authentication and workspace access checks."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from billy.core.errors import BillyError, Forbidden

from .models import WORKSPACE_NAME_VALIDATOR, ApiKey, Workspace
from .operations import hash_api_key

WORKSPACE_NAME = WORKSPACE_NAME_VALIDATOR.regex


class WorkspaceNotFound(BillyError):
    code = "workspace_not_found"
    default_message = "No such workspace."


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key that is valid now."""

    api_key_id: int
    name: str
    role: str


def authenticate_api_key(secret: str) -> Principal | None:
    """The principal of an unrevoked key with this secret, or None."""
    if not secret:
        return None
    row = (
        ApiKey.objects.filter(key_hash=hash_api_key(secret), revoked_at__isnull=True)
        .values("id", "name", "role")
        .first()
    )
    if row is None:
        return None
    return Principal(api_key_id=row["id"], name=row["name"], role=row["role"])


def get_workspace_for(principal: Principal, workspace_name: str) -> Workspace:
    """The workspace, when the principal's key is granted it (one query).

    Raises WorkspaceNotFound for an unknown name and Forbidden for one the key is not granted.
    """
    if not WORKSPACE_NAME.fullmatch(workspace_name):
        raise WorkspaceNotFound(f"No workspace named {workspace_name!r}.")
    granted = ApiKey.workspaces.through.objects.filter(apikey_id=principal.api_key_id, workspace_id=OuterRef("pk"))
    workspace = Workspace.objects.filter(name=workspace_name).annotate(granted=Exists(granted)).first()
    if workspace is None:
        raise WorkspaceNotFound(f"No workspace named {workspace_name!r}.")
    if not workspace.granted:
        raise Forbidden(f"This API key is not granted workspace {workspace_name!r}.")
    return workspace
