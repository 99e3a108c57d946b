"""Wraps any non-JSON error under /api/ (Django's 404/405/500 pages) in billy's error envelope, and
answers a view outside the API whose database does not answer (the admin) with 503, not a 500 page."""

from __future__ import annotations

import logging

from billy.core.database import database_unavailable
from billy.core.errors import code_for_http_status

from .errors import error_response

logger = logging.getLogger(__name__)

_MESSAGES = {
    400: "The request is malformed.",
    404: "No such path.",
    405: "This path does not accept this method.",
    413: "The request body is too large.",
    500: "Internal error.",
}


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
