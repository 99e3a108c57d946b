"""Claim a key, answer once per key, forget old keys."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection

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

_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout ends a wait


class KeyInProgress(BillyError):
    code = "in_progress"
    default_message = "A call with this Idempotency-Key is still running; retry after Retry-After seconds."


def fingerprint(request: dict[str, Any]) -> str:
    """A stable digest of the request (its fields as billy parsed them)."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


@contextlib.contextmanager
def _key_lock(*, workspace_id: int, operation: str, key: str) -> Iterator[None]:
    """Hold the key for one call: a PostgreSQL session advisory lock, so a second call with the key
    waits for the first to answer (in any process), and a process that dies releases it.

    It is a session lock, not a transaction lock, because the call commits its own writes before it
    calls out (write first, then call out). Raises KeyInProgress after BILLY_IDEMPOTENCY_WAIT_SECONDS.
    """
    name = f"idempotency:{workspace_id}:{operation}:{key}"
    wait_ms = max(1, int(settings.BILLY_IDEMPOTENCY_WAIT_SECONDS * 1000))
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, false)", [f"{wait_ms}ms"])
        try:
            cursor.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [name])
        except OperationalError as e:
            if getattr(e.__cause__, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                raise
            raise KeyInProgress(retry_after=settings.BILLY_RETRY_AFTER_SECONDS) from e
        finally:
            cursor.execute("RESET lock_timeout")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [name])
        except DatabaseError:
            connection.close()  # the session ends, and its lock with it


def _claim(*, workspace_id: int, operation: str, key: str, request: dict[str, Any], now: dt.datetime) -> IdempotencyKey:
    digest = fingerprint(request)
    record, created = IdempotencyKey.objects.get_or_create(
        workspace_id=workspace_id, operation=operation, key=key, defaults={"fingerprint": digest, "created_at": now}
    )
    if record.fingerprint != digest:
        raise IdempotencyConflict(f"Idempotency-Key {key!r} was already used with another request.")
    record.repeated = not created  # an earlier call with the key, which may have stopped midway
    return record


@contextlib.contextmanager
def claim_idempotency_key(
    *, workspace_id: int, operation: str, key: str | None, request: dict[str, Any], now: dt.datetime
) -> Iterator[IdempotencyKey]:
    """The key's record (created on first use), held for this call: another call with the key waits
    until this one has left the block, then sees its answer. Raises ValidationFailed (missing or
    malformed key), IdempotencyConflict (the key was used with another request) and KeyInProgress
    (the key's first call has been running longer than BILLY_IDEMPOTENCY_WAIT_SECONDS)."""
    if not key or len(key) > MAX_KEY_LENGTH or not is_printable_text(key):
        raise ValidationFailed(
            {
                "Idempotency-Key": [
                    f"This call needs an Idempotency-Key header: 1–{MAX_KEY_LENGTH} printable characters."
                ]
            }
        )
    with _key_lock(workspace_id=workspace_id, operation=operation, key=key):
        yield _claim(workspace_id=workspace_id, operation=operation, key=key, request=request, now=now)


def remember_resource(*, record: IdempotencyKey, resource_id: str) -> None:
    """Note what the key's call created (before the call has its answer)."""
    IdempotencyKey.objects.filter(pk=record.pk, resource_id="").update(resource_id=resource_id)
    record.resource_id = record.resource_id or resource_id


def remember_response(*, record: IdempotencyKey, status: int, body: Any) -> None:
    """Keep the first answer given for the key."""
    IdempotencyKey.objects.filter(pk=record.pk, response_status__isnull=True).update(
        response_status=status, response_body=body
    )


def answer_once(*, record: IdempotencyKey, run: Callable[[], Answer]) -> Answer:
    """The key's first answer if it has one; else run the call and keep its answer (or its refusal,
    when the refusal depends on the request alone: KEPT_ERRORS). Call it inside
    `claim_idempotency_key`'s block. Raises what `run` raises."""
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


def answer_with_key(
    *,
    workspace_id: int,
    operation: str,
    key: str | None,
    request: dict[str, Any],
    run: Callable[[], Answer],
    now: dt.datetime,
    again: Callable[[], Answer] | None = None,
) -> Answer:
    """`run()`'s answer, once per key when the caller sent one (a call whose resource the consumer
    names needs none: its id makes a repeat safe). With a key, the same request replays the key's
    first answer, status and body; another request (another id, another field) is a conflict.
    `again`, if given, runs instead of `run` when an earlier call with the key left no answer (it
    stopped midway, and what it wrote may be there already). Raises what claim_idempotency_key
    and `run` raise."""
    if key is None:
        return run()
    with claim_idempotency_key(
        workspace_id=workspace_id, operation=operation, key=key, request=request, now=now
    ) as record:
        repeated = again is not None and getattr(record, "repeated", False)
        return answer_once(record=record, run=again if repeated else run)


def forget_idempotency_keys(*, older_than: dt.datetime) -> int:
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=older_than).delete()
    return deleted
