"""What the HTTP server (gunicorn) does before Django, in billy's terms.

- `EnvelopeThreadWorker`: gunicorn refuses a request it cannot parse (request line over
  `limit_request_line` → 414, headers over `limit_request_fields`/`limit_request_field_size` → 431,
  a bad header byte → 400) with its own HTML page; this worker answers the same status in billy's
  JSON error envelope. gunicorn still decides the status and logs the refusal.
- `BillyWSGIHandler`: Django's WSGI handler, with a leaner middleware chain for the API
  (`API_MIDDLEWARE`: no sessions, CSRF, logins, messages or static files, which only the admin uses).
- `read_chunked_body`: Django reads `CONTENT_LENGTH` bytes of a body, so a chunked body (no
  Content-Length) would read as empty. The body is read here, up to one byte over Django's limit
  (so an oversized one is 413, as with a Content-Length), and handed on with its length.
"""

from __future__ import annotations

import io
import json
import uuid

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from billy.core.errors import ERROR_CODES, code_for_http_status


class _Capture:
    """A stand-in for the client socket that keeps what gunicorn writes to it."""

    def __init__(self, sock) -> None:
        self._sock = sock
        self.data = b""

    def sendall(self, data: bytes) -> None:
        self.data += data

    def send(self, data: bytes) -> int:
        self.data += data
        return len(data)

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


def envelope_response(status: int) -> bytes:
    """A complete HTTP/1.1 response for `status`, its body billy's error envelope."""
    code = code_for_http_status(status)
    request_id = str(uuid.uuid4())  # the request could not be read, so not its own id either
    error = {"code": code, "message": ERROR_CODES[code].description, "details": {}, "request_id": request_id}
    body = json.dumps({"error": error}).encode()
    reason = {414: "URI Too Long", 431: "Request Header Fields Too Large"}.get(status, "Error")
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"Request-Id: {request_id}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class EnvelopeThreadWorker(ThreadWorker):
    """gunicorn's threaded worker, its own refusals answered in billy's error envelope."""

    def handle_error(self, req, client, addr, exc):
        capture = _Capture(client)
        super().handle_error(req, capture, addr, exc)  # gunicorn picks the status and logs
        status_line = capture.data.split(b"\r\n", 1)[0].split()
        if len(status_line) < 2 or not status_line[1].isdigit():
            return
        try:
            util.write_nonblock(client, envelope_response(int(status_line[1])))
        except OSError:  # the client went away: nothing to answer
            self.log.debug("Failed to send error message.")


def read_chunked_body(application):
    """The WSGI application, given every chunked request body as one with a Content-Length."""

    def wrapped(environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            body = environ["wsgi.input"].read() if limit is None else environ["wsgi.input"].read(limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return application(environ, start_response)

    return wrapped


API_PREFIX = "/api/"


class _ApiHandler(WSGIHandler):
    """The handler of requests under /api/: its middleware chain is `API_MIDDLEWARE`."""

    def load_middleware(self, is_async: bool = False) -> None:
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE  # read by Django's load_middleware, once, at start
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class BillyWSGIHandler(WSGIHandler):
    """Django's WSGI handler; a request under /api/ goes through the API's own middleware chain."""

    def __init__(self) -> None:
        super().__init__()
        self.api = _ApiHandler()

    def get_response(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.api.get_response(request)
        return super().get_response(request)
