"""Claim a key, answer once per key, forget old keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from billy.core.errors import BillyError, IdempotencyConflict, ValidationFailed
from billy.core.validation import is_printable_text

from .models import IdempotencyKey

MAX_KEY_LENGTH = 255

# A transport's answer to a call made with a key: its status (an HTTP status) and JSON body. It is
# what the key replays, so a repeat gets the first answer exactly.
Answer = tuple[int, Any]

# Refusals that depend on the request alone are answers too; others (no such plan yet, a state
# that may change, an unavailable upstream) are not kept: a retry with the key tries again.
KEPT_ERRORS = frozenset({"validation_failed"})


def fingerprint(request: dict[str, Any]) -> str:
    """A stable digest of the request (its fields as billy parsed them)."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def claim_idempotency_key(
    *, workspace_id: int, operation: str, key: str | None, request: dict[str, Any], now: dt.datetime
) -> IdempotencyKey:
    """The key's record, created on first use. Raises ValidationFailed (missing or malformed key) and
    IdempotencyConflict (the key was used with another request)."""
    if not key or len(key) > MAX_KEY_LENGTH or not is_printable_text(key):
        raise ValidationFailed(
            {
                "Idempotency-Key": [
                    f"This call needs an Idempotency-Key header: 1–{MAX_KEY_LENGTH} printable characters."
                ]
            }
        )
    digest = fingerprint(request)
    record, _ = IdempotencyKey.objects.get_or_create(
        workspace_id=workspace_id, operation=operation, key=key, defaults={"fingerprint": digest, "created_at": now}
    )
    if record.fingerprint != digest:
        raise IdempotencyConflict(f"Idempotency-Key {key!r} was already used with another request.")
    return record


def remember_resource(*, record: IdempotencyKey, resource_id: str) -> None:
    """Note what the key's call created (before the call has its answer)."""
    IdempotencyKey.objects.filter(pk=record.pk, resource_id="").update(resource_id=resource_id)
    record.resource_id = record.resource_id or resource_id


def remember_response(*, record: IdempotencyKey, status: int, body: Any) -> None:
    """Keep the first answer given for the key (a concurrent first answer wins)."""
    IdempotencyKey.objects.filter(pk=record.pk, response_status__isnull=True).update(
        response_status=status, response_body=body
    )


def answer_once(*, record: IdempotencyKey, run: Callable[[], Answer]) -> Answer:
    """The key's first answer if it has one; else run the call and keep its answer (or its refusal,
    when the refusal depends on the request alone: KEPT_ERRORS). Raises what `run` raises."""
    if record.response_status is not None:
        return record.response_status, record.response_body
    try:
        status, body = run()
    except BillyError as e:
        if e.code in KEPT_ERRORS:
            remember_response(record=record, status=e.spec.http_status, body=e.as_dict())
        raise
    remember_response(record=record, status=status, body=body)
    return status, body


def forget_idempotency_keys(*, older_than: dt.datetime) -> int:
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=older_than).delete()
    return deleted
