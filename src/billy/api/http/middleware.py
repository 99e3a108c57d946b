"""Gives every request its Request-Id (on the answer, in the error envelope and in each log line
written while it is answered), wraps any non-JSON error under /api/ (Django's 404/405/500 pages)
in billy's error envelope, refuses a query or body billy does not read (see `strict`) before any
view sees it, and answers a view outside the API whose database does not answer (the admin) with
503, not a 500 page."""

from __future__ import annotations

import logging
import re
import uuid

from django.core.signals import request_finished

from billy.core.database import database_unavailable
from billy.core.errors import BillyError, code_for_http_status
from billy.core.logs import bind_request_id

from .errors import error_response
from .strict import check_media_type, check_query

logger = logging.getLogger(__name__)

_MESSAGES = {
    400: "The request is malformed.",
    404: "No such path.",
    405: "This path does not accept this method.",
    413: "The request body is too large.",
    500: "Internal error.",
}


REQUEST_ID_HEADER = "Request-Id"
# A caller's id is taken when it is one a log line and a header can carry as it is.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}")


def request_id_for(request) -> str:
    """The caller's `Request-Id` (or `X-Request-Id`) when it is sane, else a new one."""
    for header in (REQUEST_ID_HEADER, "X-Request-Id"):
        value = request.headers.get(header)
        if value and _SANE_REQUEST_ID.fullmatch(value):
            return value
    return str(uuid.uuid4())


def _forget_request_id(**kwargs) -> None:
    bind_request_id(None)


# Django logs a failed request after the middleware has answered, and the server closes the answer
# after that: the id stays bound until then, so that line carries it too.
request_finished.connect(_forget_request_id, dispatch_uid="billy.forget_request_id")


class RequestIdMiddleware:
    """First in the chain: every answer, the admin's and the health checks' too, carries one."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_for(request)
        bind_request_id(request_id)
        request.request_id = request_id
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class ApiErrorEnvelopeMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            wrapped = error_response(
                code_for_http_status(status), _MESSAGES.get(status, response.reason_phrase or "Error.")
            )
            wrapped.status_code = status
            if response.has_header("Allow"):
                wrapped["Allow"] = response["Allow"]
            return wrapped
        return response


class StrictInputMiddleware:
    """Under /api/: a query parameter with control characters is 422, a body that is not JSON 415."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            try:
                check_query(request)
                check_media_type(request)
            except BillyError as e:
                return error_response(e.code, e.message, e.details)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """The API's own handlers answer a database outage with `503 unavailable`; this does it for the rest."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        unavailable = database_unavailable(exception)
        if unavailable is None:
            return None
        logger.warning("%s %s failed: %s: %s", request.method, request.path, unavailable.code, unavailable.message)
        response = error_response(unavailable.code, unavailable.message, retry_after=unavailable.retry_after)
        response._has_been_logged = True  # Django would log it again, as an error, without the reason
        return response
