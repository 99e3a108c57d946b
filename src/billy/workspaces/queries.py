"""Reads for workspaces and API keys: authentication and workspace access checks."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef

from billy.core.errors import BillyError

from .models import WORKSPACE_NAME_VALIDATOR, ApiKey, Workspace
from .operations import hash_api_key

WORKSPACE_NAME = WORKSPACE_NAME_VALIDATOR.regex


class WorkspaceNotFound(BillyError):
    code = "workspace_not_found"
    default_message = "No such workspace."


class ApiKeyNotFound(BillyError):
    code = "api_key_not_found"
    default_message = "No such API key."


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key that is valid now."""

    api_key_id: int
    name: str
    role: str


class _TtlCache:
    """Answers remembered for BILLY_AUTH_CACHE_SECONDS; only successes are kept, at most `size`."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.entries: dict = {}
        self.lock = threading.Lock()

    def get_or_compute(self, key, compute):
        ttl = settings.BILLY_AUTH_CACHE_SECONDS
        if ttl <= 0:
            return compute()
        now = time.monotonic()
        hit = self.entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = compute()
        if value is not None:
            with self.lock:
                if len(self.entries) >= self.size:
                    self.entries.clear()
                self.entries[key] = (now + ttl, value)
        return value


_principals = _TtlCache()
_grants = _TtlCache()


def authenticate_api_key(secret: str) -> Principal | None:
    """The principal of an unrevoked key with this secret, or None."""
    if not secret:
        return None
    key_hash = hash_api_key(secret)
    return _principals.get_or_compute(key_hash, lambda: _load_principal(key_hash))


def _load_principal(key_hash: str) -> Principal | None:
    row = ApiKey.objects.filter(key_hash=key_hash, revoked_at__isnull=True).values("id", "name", "role").first()
    if row is None:
        return None
    return Principal(api_key_id=row["id"], name=row["name"], role=row["role"])


def get_workspace_for(principal: Principal, workspace_name: str) -> Workspace:
    """The workspace, when the principal's key is granted it (one query).

    Raises WorkspaceNotFound for an unknown name and for one the key is not granted alike (the same
    answer, so a key cannot learn which other workspaces exist).
    """
    if not WORKSPACE_NAME.fullmatch(workspace_name):
        raise WorkspaceNotFound(f"No workspace named {workspace_name!r}.")
    workspace = _grants.get_or_compute(
        (principal.api_key_id, workspace_name), lambda: _load_granted_workspace(principal, workspace_name)
    )
    if workspace is None:
        raise WorkspaceNotFound(f"No workspace named {workspace_name!r}.")
    return workspace


def _load_granted_workspace(principal: Principal, workspace_name: str) -> Workspace | None:
    """The workspace when granted; None otherwise."""
    granted = ApiKey.workspaces.through.objects.filter(apikey_id=principal.api_key_id, workspace_id=OuterRef("pk"))
    workspace = Workspace.objects.filter(name=workspace_name).annotate(granted=Exists(granted)).first()
    return workspace if workspace is not None and workspace.granted else None


def get_workspace(workspace_name: str) -> Workspace:
    """The workspace by name, for callers that are not API keys (provider webhooks).

    Raises WorkspaceNotFound."""
    workspace = (
        Workspace.objects.filter(name=workspace_name).first() if WORKSPACE_NAME.fullmatch(workspace_name) else None
    )
    if workspace is None:
        raise WorkspaceNotFound(f"No workspace named {workspace_name!r}.")
    return workspace


def list_api_keys() -> list[ApiKey]:
    """Every API key, newest first, with its workspaces (two queries)."""
    return list(ApiKey.objects.prefetch_related("workspaces"))


def get_api_key_by_prefix(prefix: str) -> ApiKey:
    """The key whose first characters are `prefix` (as `list_api_keys` shows them). Raises ApiKeyNotFound."""
    key = ApiKey.objects.filter(prefix=prefix).first()
    if key is None:
        raise ApiKeyNotFound(f'No API key with prefix "{prefix}".', details={"prefix": prefix})
    return key


def list_workspaces() -> list[Workspace]:
    """Every workspace, by name."""
    return list(Workspace.objects.order_by("name"))
