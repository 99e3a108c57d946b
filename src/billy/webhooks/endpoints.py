"""Managing webhook endpoints: create, update, delete, rotate the signing secret.

A secret is made by billy and returned once, by the call that made it (create, rotate); it is
stored as it is, since signing needs it, and no answer or admin page shows it again. Create and
rotate make something the consumer does not name, so they take an Idempotency-Key (the same key and
request replay the first answer).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Q

from billy.core.errors import BillyError, ValidationFailed
from billy.core.pagination import decode_cursor
from billy.core.validation import check_text
from billy.events.queries import head_cursor
from billy.events.registry import EVENT_TYPES
from billy.idempotency.operations import Answer, answer_once, claim_idempotency_key
from billy.workspaces.models import Workspace

from .models import WebhookEndpoint, WebhookSecret
from .signing import new_secret

MAX_URL_LENGTH = 2048
DEFAULT_OVERLAP_SECONDS = 24 * 3600
MAX_OVERLAP_SECONDS = 7 * 24 * 3600


class WebhookEndpointNotFound(BillyError):
    code = "webhook_endpoint_not_found"
    default_message = "No webhook endpoint with this id."


@dataclass(frozen=True)
class NewSecret:
    """An endpoint with the secret just made for it (the only time the secret is handed out)."""

    endpoint: WebhookEndpoint
    secret: str
    previous_secret_expires_at: dt.datetime | None = None


def _check_url(errors: dict[str, list[str]], url: str | None) -> None:
    check_text(errors, "url", url, max_length=MAX_URL_LENGTH)
    if "url" in errors:
        return
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # an unclosed IPv6 bracket, a port out of range
        parts, port_ok = urlsplit(""), False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or " " in url:
        errors["url"] = ["An absolute http:// or https:// URL."]


def _check_event_types(errors: dict[str, list[str]], event_types: list[str] | None) -> list[str]:
    wanted = list(dict.fromkeys(event_types or []))
    unknown = [t for t in wanted if t not in EVENT_TYPES]
    if unknown:
        errors["event_types"] = [f"Unknown event types {unknown[:20]}; known: {sorted(EVENT_TYPES)}."]
    return wanted


def is_row_id(value: int | str) -> bool:
    """Whether `value` can be a row id (a path segment that cannot is simply not found, never a 500)."""
    return re.fullmatch(r"[1-9][0-9]{0,17}", str(value)) is not None


def get_endpoint(*, workspace: Workspace, endpoint_id: int | str, lock: bool = False) -> WebhookEndpoint:
    """Raises WebhookEndpointNotFound."""
    query = WebhookEndpoint.objects.select_for_update() if lock else WebhookEndpoint.objects
    endpoint = query.filter(workspace=workspace, pk=endpoint_id).first() if is_row_id(endpoint_id) else None
    if endpoint is None:
        raise WebhookEndpointNotFound(f"No webhook endpoint {endpoint_id!r} in workspace {workspace.name!r}.")
    return endpoint


def create_endpoint(
    *, workspace: Workspace, url: str, event_types: list[str] | None, enabled: bool, now: dt.datetime
) -> NewSecret:
    """A new endpoint with its first secret; it gets events written from now on. Raises ValidationFailed."""
    errors: dict[str, list[str]] = {}
    _check_url(errors, url)
    wanted = _check_event_types(errors, event_types)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        after_xid, after_event_id = decode_cursor(head_cursor(), int, int)
        endpoint = WebhookEndpoint.objects.create(
            workspace=workspace,
            url=url,
            event_types=wanted,
            enabled=enabled,
            after_xid=after_xid,
            after_event_id=after_event_id,
            created_at=now,
            updated_at=now,
        )
        secret = WebhookSecret.objects.create(endpoint=endpoint, secret=new_secret(), created_at=now)
    return NewSecret(endpoint=endpoint, secret=secret.secret)


def update_endpoint(
    *,
    workspace: Workspace,
    endpoint_id: int | str,
    url: str | None = None,
    event_types: list[str] | None = None,
    enabled: bool | None = None,
    now: dt.datetime,
) -> WebhookEndpoint:
    """Change what is given (None: unchanged). Disabling pauses deliveries; enabling again resumes
    them where they stopped, so nothing is skipped. Raises ValidationFailed, WebhookEndpointNotFound."""
    errors: dict[str, list[str]] = {}
    if url is not None:
        _check_url(errors, url)
    wanted = _check_event_types(errors, event_types) if event_types is not None else None
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        endpoint = get_endpoint(workspace=workspace, endpoint_id=endpoint_id, lock=True)
        changes = {
            name: value
            for name, value in (("url", url), ("event_types", wanted), ("enabled", enabled))
            if value is not None and getattr(endpoint, name) != value
        }
        if changes:
            for name, value in changes.items():
                setattr(endpoint, name, value)
            endpoint.updated_at = now
            endpoint.save(update_fields=[*changes, "updated_at"])
    return endpoint


def delete_endpoint(*, workspace: Workspace, endpoint_id: int | str) -> None:
    """Delete the endpoint with its secrets and delivery log. Raises WebhookEndpointNotFound."""
    with transaction.atomic():
        get_endpoint(workspace=workspace, endpoint_id=endpoint_id, lock=True).delete()


def rotate_secret(*, workspace: Workspace, endpoint_id: int | str, overlap_seconds: int, now: dt.datetime) -> NewSecret:
    """A new current secret; the one it replaces keeps signing too until `overlap_seconds` from now
    (0: it stops at once). Raises ValidationFailed, WebhookEndpointNotFound."""
    if not 0 <= overlap_seconds <= MAX_OVERLAP_SECONDS:
        raise ValidationFailed({"overlap_seconds": [f"Between 0 and {MAX_OVERLAP_SECONDS} (7 days)."]})
    with transaction.atomic():
        endpoint = get_endpoint(workspace=workspace, endpoint_id=endpoint_id, lock=True)
        expires_at = now + dt.timedelta(seconds=overlap_seconds)
        endpoint.secrets.filter(expires_at__isnull=True).update(expires_at=expires_at)
        secret = WebhookSecret.objects.create(endpoint=endpoint, secret=new_secret(), created_at=now)
        endpoint.updated_at = now
        endpoint.save(update_fields=["updated_at"])
    return NewSecret(endpoint=endpoint, secret=secret.secret, previous_secret_expires_at=expires_at)


def signing_secrets(*, endpoint_id: int, now: dt.datetime) -> list[str]:
    """The secrets a delivery sent at `now` is signed with, newest first."""
    return list(
        WebhookSecret.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), endpoint_id=endpoint_id)
        .order_by("-created_at", "-id")
        .values_list("secret", flat=True)
    )


def create_endpoint_with_key(
    *,
    workspace: Workspace,
    url: str,
    event_types: list[str] | None,
    enabled: bool,
    key: str | None,
    answer: Callable[[NewSecret], Answer],
    now: dt.datetime,
) -> Answer:
    """create_endpoint once per Idempotency-Key; a repeat replays the first answer. Raises what
    claim_idempotency_key and create_endpoint raise."""
    with claim_idempotency_key(
        workspace_id=workspace.pk,
        operation="create_webhook_endpoint",
        key=key,
        request={"url": url, "event_types": event_types, "enabled": enabled},
        now=now,
    ) as record:
        return answer_once(
            record=record,
            run=lambda: answer(
                create_endpoint(workspace=workspace, url=url, event_types=event_types, enabled=enabled, now=now)
            ),
        )


def rotate_secret_with_key(
    *,
    workspace: Workspace,
    endpoint_id: int | str,
    overlap_seconds: int,
    key: str | None,
    answer: Callable[[NewSecret], Answer],
    now: dt.datetime,
) -> Answer:
    """rotate_secret once per Idempotency-Key; a repeat replays the first answer. Raises what
    claim_idempotency_key and rotate_secret raise."""
    get_endpoint(workspace=workspace, endpoint_id=endpoint_id)  # 404 before a key is spent on it
    with claim_idempotency_key(
        workspace_id=workspace.pk,
        operation="rotate_webhook_secret",
        key=key,
        request={"endpoint_id": str(endpoint_id), "overlap_seconds": overlap_seconds},
        now=now,
    ) as record:
        return answer_once(
            record=record,
            run=lambda: answer(
                rotate_secret(workspace=workspace, endpoint_id=endpoint_id, overlap_seconds=overlap_seconds, now=now)
            ),
        )
