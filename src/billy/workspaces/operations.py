"""Writes for workspaces and API keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from billy.core.errors import BillyError, ValidationFailed

from .models import ApiKey, Workspace, new_notification_secret

KEY_PREFIX = "billy_"


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    secret: str  # shown once; only its hash is stored


class UnknownWorkspace(BillyError):
    """A workspace to grant does not exist. `details={"workspaces": [name, ...]}`: every unknown one."""

    code = "workspace_not_found"
    default_message = "No such workspace."


def create_api_key(
    *,
    name: str,
    workspace_names: Iterable[str],
    now: dt.datetime,
    role: str = ApiKey.Role.SERVICE,
    secret: str | None = None,
) -> IssuedApiKey:
    """Create a key granted `workspace_names`; `secret` fixes the key (dev), else a random one.

    Raises UnknownWorkspace when a name is not a workspace, ValidationFailed for an empty grant or a
    name that is empty or over 128 characters.
    """
    names = sorted(set(workspace_names))
    if not 1 <= len(name) <= ApiKey._meta.get_field("name").max_length:
        raise ValidationFailed({"name": ["1 to 128 characters."]})
    if not names:
        raise ValidationFailed({"workspaces": ["Grant at least one workspace."]})
    workspaces = list(Workspace.objects.filter(name__in=names))
    missing = sorted(set(names) - {w.name for w in workspaces})
    if missing:
        names = ", ".join(f'"{n}"' for n in missing)
        raise UnknownWorkspace(
            f"No workspace named {names}." if len(missing) == 1 else f"No workspaces named {names}.",
            details={"workspaces": missing},
        )
    secret = secret or KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            name=name, prefix=secret[:12], key_hash=hash_api_key(secret), role=role, created_at=now
        )
        api_key.workspaces.set(workspaces)
    return IssuedApiKey(api_key=api_key, secret=secret)


def revoke_api_key(*, api_key_id: int, now: dt.datetime) -> ApiKey:
    """Revoke a key; revoking twice keeps the first revocation time."""
    ApiKey.objects.filter(pk=api_key_id, revoked_at__isnull=True).update(revoked_at=now)
    return ApiKey.objects.get(pk=api_key_id)


def save_workspace(*, workspace: Workspace, now: dt.datetime) -> Workspace:
    """Save an operator's edit of a workspace (validated); a new one gets its creation time."""
    if workspace.created_at is None:
        workspace.created_at = now
    workspace.full_clean()
    workspace.save()
    return workspace


def upsert_workspace(
    *,
    name: str,
    title: str,
    balance_service_id: int,
    balance_integration: str,
    balance_configuration: str,
    now: dt.datetime,
    time_zone: str = "Europe/Moscow",
    currency: str = "RUB",
) -> Workspace:
    """Create a workspace, or keep an existing one as the operator left it."""
    workspace, _ = Workspace.objects.get_or_create(
        name=name,
        defaults={
            "created_at": now,
            "title": title,
            "balance_service_id": balance_service_id,
            "balance_integration": balance_integration,
            "balance_configuration": balance_configuration,
            "time_zone": time_zone,
            "currency": currency,
        },
    )
    return workspace


def ensure_api_key(*, name: str, secret: str, workspace_names: Iterable[str], now: dt.datetime) -> ApiKey:
    """The unrevoked key with this secret, granted at least `workspace_names` (created if missing)."""
    api_key = ApiKey.objects.filter(key_hash=hash_api_key(secret)).first()
    if api_key is None:
        return create_api_key(name=name, workspace_names=workspace_names, now=now, secret=secret).api_key
    with transaction.atomic():
        ApiKey.objects.filter(pk=api_key.pk).update(revoked_at=None)
        api_key.workspaces.add(*Workspace.objects.filter(name__in=list(workspace_names)))
    return api_key


def configure_payment_provider(*, name: str, api_url: str, shop_id: str, secret_key: str) -> Workspace:
    """Point the workspace at its shop at the card payment provider (YooKassa API v3)."""
    Workspace.objects.filter(name=name).update(
        yookassa_api_url=api_url, yookassa_shop_id=shop_id, yookassa_secret_key=secret_key
    )
    return Workspace.objects.get(name=name)


def rotate_notification_secret(*, name: str) -> str:
    """A new secret for the workspace's Balance notification URL; the old one stops working at once."""
    secret = new_notification_secret()
    Workspace.objects.filter(name=name).update(balance_notification_secret=secret)
    return secret
