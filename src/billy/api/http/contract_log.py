"""The API contract log: with `BILLY_API_CONTRACT_LOG` set to a file, every answer of the HTTP API
is appended to it as one JSON line (method, route, status, the headers that matter, the body), by
every process that serves the API. The test suite sets it and, at its end, checks each answer
against the OpenAPI document: its status documented for that operation, its error code listed for
that status, its body valid against the documented schema. Off (no middleware at all) by default.
"""

from __future__ import annotations

import json
import os
import re

from django.conf import settings
from django.urls import Resolver404, resolve

MAX_BODY = 1 << 20  # a body over 1 MiB is recorded without its text
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def openapi_path(route: str) -> str:
    """Django's route (`api/v1/workspaces/<workspace>`) as the OpenAPI document writes its path."""
    return "/" + _CONVERTER.sub(r"{\1}", route)


class ContractLogMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.path = settings.BILLY_API_CONTRACT_LOG

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            self._record(request, response)
        return response

    def _record(self, request, response) -> None:
        match = getattr(request, "resolver_match", None)
        if match is None:  # refused by a middleware before Django resolved the path
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return
        body = None
        if not response.streaming and len(response.content) <= MAX_BODY:
            body = response.content.decode("utf-8", errors="replace")
        record = {
            "method": request.method.lower(),
            "path": openapi_path(match.route),
            "status": response.status_code,
            "content_type": response.get("Content-Type"),
            "retry_after": response.get("Retry-After"),
            "request_id": response.get("Request-Id"),
            "body": body,
        }
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)  # one write of one line: lines of several processes never mix
        finally:
            os.close(fd)
