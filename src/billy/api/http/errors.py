"""The HTTP side of the error table: every error, billy's or the framework's, as one envelope."""

from __future__ import annotations

import enum
import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ConfigDict

from billy.core.database import database_unavailable
from billy.core.errors import ERROR_CODES, BillyError, code_for_http_status
from billy.core.logs import current_request_id
from billy.core.money import WRITTEN_AMOUNT_PATTERN

from .rendering import json_response

logger = logging.getLogger(__name__)


# The error table as the OpenAPI document's enum `ErrorCode`.
ErrorCode = enum.StrEnum("ErrorCode", {code: code for code in ERROR_CODES})
ErrorCode.__doc__ = "\n".join(f"- `{c.code}` ({c.http_status}): {c.description}" for c in ERROR_CODES.values())


class ErrorDetails(Schema):
    """What the code is about: the fields below are those with a fixed shape; others vary by code."""

    model_config = ConfigDict(extra="allow")

    fields: dict[str, list[str]] | None = Field(
        None, description="validation_failed: each invalid field (dotted path) and what is wrong with it."
    )
    retry_after: int | None = Field(None, ge=0, description="rate_limited: seconds to wait, as Retry-After.")
    balance_code: str | None = Field(None, description="upstream_rejected, upstream_error: Balance's code.")
    amount: str | None = Field(
        None,
        description="insufficient_funds: the amount asked for.",
        json_schema_extra={"pattern": WRITTEN_AMOUNT_PATTERN},
    )
    available: str | None = Field(
        None,
        description="insufficient_funds of an adjustment: what the wallet has available.",
        json_schema_extra={"pattern": WRITTEN_AMOUNT_PATTERN},
    )
    currency: str | None = Field(None, description="insufficient_funds: the wallet's currency.")
    wallet_currency: str | None = Field(None, description="currency_mismatch: the wallet's currency.")
    status: str | None = Field(None, description="invalid_state: the resource's state now.")
    credit_available: str | None = Field(
        None,
        description="credit_limit_exceeded: what the credit limit has left.",
        json_schema_extra={"pattern": WRITTEN_AMOUNT_PATTERN},
    )


class ErrorBody(Schema):
    code: ErrorCode
    message: str = Field(description="For people; may change.")
    details: ErrorDetails
    request_id: str | None = Field(None, description="The request's Request-Id, as in the logs.")


class ErrorOut(Schema):
    """Every error billy answers, the framework's included."""

    error: ErrorBody


def error_response(
    code: str, message: str, details: dict[str, Any] | None = None, *, retry_after: int | None = None
) -> HttpResponse:
    spec = ERROR_CODES[code]
    error = {"code": code, "message": message, "details": details or {}}
    request_id = current_request_id()
    if request_id:
        error["request_id"] = request_id
    response = json_response({"error": error}, status=spec.http_status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def with_request_id(body: Any) -> Any:
    """A kept answer as this request gives it: an error envelope names this request's id (a
    replayed refusal is the first one's, except for whose request it answers)."""
    request_id = current_request_id()
    if request_id and isinstance(body, dict) and isinstance(body.get("error"), dict):
        return {"error": {**body["error"], "request_id": request_id}}
    return body


def _field_name(loc: list[Any]) -> str:
    # ninja reports ("body", "payload", "email") or ("path", "workspace"): keep the field's own name.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "payload")]
    return ".".join(parts) or "body"


def install_handlers(api) -> None:
    @api.exception_handler(BillyError)
    def billy_error(request: HttpRequest, exc: BillyError):
        response = error_response(exc.code, exc.message, exc.details, retry_after=exc.retry_after)
        if response.status_code >= 500:  # an upstream down or failing: the request failed, say why
            logger.warning("%s %s failed: %s: %s", request.method, request.path, exc.code, exc.message)
            response._has_been_logged = True  # Django would log it again, without the reason
        return response

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError):
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            fields.setdefault(_field_name(list(error.get("loc", []))), []).append(error.get("msg", "Invalid value."))
        return error_response("validation_failed", "Some fields are invalid.", {"fields": fields})

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError):
        return error_response("unauthenticated", "A valid API key is required: Authorization: Bearer <key>.")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError):
        cause = exc.__cause__  # ninja wraps what the body parser raised: say what it said
        if isinstance(cause, BillyError):
            return error_response(cause.code, cause.message, cause.details)
        return error_response(code_for_http_status(exc.status_code), str(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404):
        return error_response("not_found", "No such resource.")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig):
        return error_response("payload_too_large", "The request body is too large.")

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request: HttpRequest, exc: SuspiciousOperation):
        return error_response("bad_request", "The request is malformed.")

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception):
        unavailable = database_unavailable(exc)
        if unavailable is not None:
            return billy_error(request, unavailable)
        logger.exception("unhandled error on %s %s", request.method, request.path)
        response = error_response("internal_error", "Internal error; it has been logged.")
        response._has_been_logged = True
        return response
