"""The `Idempotency-Key` header over HTTP: every mutating call honours it (see `billy.idempotency`).

A call answers through `keyed_answer`: without a key, as it always did; with one, the key's first
answer (status and body, kept in the database as rendered JSON) is replayed for the same request,
and the same key with another request is 409 `idempotency_conflict`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Schema, Status

from billy.core import clock
from billy.idempotency.operations import answer_with_key
from billy.workspaces.models import Workspace

from .errors import with_request_id
from .rendering import json_data, json_response

IDEMPOTENCY_KEY = "Idempotency-Key"


def idempotency_key(request: HttpRequest) -> str | None:
    return request.headers.get(IDEMPOTENCY_KEY)


def keyed_answer(
    request: HttpRequest,
    *,
    workspace: Workspace,
    operation: str,
    fingerprint: dict[str, Any] | Callable[[], dict[str, Any]],
    run: Callable[[], tuple[int, Schema | dict[str, Any] | None]],
    again: Callable[[], tuple[int, Schema | dict[str, Any] | None]] | None = None,
):
    """The view's answer: `run()` (status and body) once per Idempotency-Key, if one was sent.

    `fingerprint` is the request as the view parsed it (path ids and body), or a function that
    makes it (only called when a key was sent): what a repeat with the key must match. A body of
    None is an answer without one (204). `again`: what a repeat runs when the key's first call left
    no answer (see answer_with_key)."""
    key = idempotency_key(request)
    if key is None:
        status, body = run()
        if body is None:
            return HttpResponse(status=status)  # 204: no body
        # Plain data is answered as it is: validating a batch's 1,000 results would cost more than the charges.
        return Status(status, body) if isinstance(body, Schema) else json_response(body, status=status)

    def rendered(call) -> Callable[[], tuple[int, Any]]:
        def answer() -> tuple[int, Any]:
            status, body = call()
            return status, json_data(body.model_dump() if isinstance(body, Schema) else body)

        return answer

    request_fingerprint = fingerprint() if callable(fingerprint) else fingerprint
    status, body = answer_with_key(
        workspace_id=workspace.pk,
        operation=operation,
        key=key,
        request=request_fingerprint,
        run=rendered(run),
        again=None if again is None else rendered(again),
        now=clock.now(),
    )
    if body is None:
        return HttpResponse(status=status)
    return json_response(with_request_id(body), status=status)
