"""Every error billy reports, with its stable code, in one table.

Domain code raises a subclass of `BillyError` defined next to the function that raises it;
each transport (HTTP, gRPC) maps `code` to its own status through `ERROR_CODES`, once.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import grpc


@dataclasses.dataclass(frozen=True)
class ErrorCode:
    code: str
    http_status: int
    grpc_status: grpc.StatusCode
    description: str
    # The answer says when to try again (Retry-After, gRPC RetryInfo): the caller should, later.
    retry_after: bool = False


_TABLE = [
    ErrorCode("bad_request", 400, grpc.StatusCode.INVALID_ARGUMENT, "The request is malformed."),
    ErrorCode("validation_failed", 422, grpc.StatusCode.INVALID_ARGUMENT, "Fields are invalid; see details.fields."),
    ErrorCode("unauthenticated", 401, grpc.StatusCode.UNAUTHENTICATED, "No API key, or an unknown or revoked one."),
    ErrorCode("forbidden", 403, grpc.StatusCode.PERMISSION_DENIED, "The API key is not granted this role."),
    ErrorCode("not_found", 404, grpc.StatusCode.NOT_FOUND, "No such resource or path."),
    ErrorCode(
        "workspace_not_found",
        404,
        grpc.StatusCode.NOT_FOUND,
        "No workspace with this name that the API key is granted (unknown and not granted look the same).",
    ),
    ErrorCode("client_not_found", 404, grpc.StatusCode.NOT_FOUND, "No client with this service client id."),
    ErrorCode("api_key_not_found", 404, grpc.StatusCode.NOT_FOUND, "No API key with this prefix."),
    ErrorCode("payload_too_large", 413, grpc.StatusCode.RESOURCE_EXHAUSTED, "The request body is too large."),
    ErrorCode(
        "unsupported_media_type",
        415,
        grpc.StatusCode.INVALID_ARGUMENT,
        "A request body must be JSON, sent as Content-Type: application/json.",
    ),
    ErrorCode("uri_too_long", 414, grpc.StatusCode.INVALID_ARGUMENT, "The request line is too long."),
    ErrorCode(
        "headers_too_large", 431, grpc.StatusCode.INVALID_ARGUMENT, "The request's headers are too many or too large."
    ),
    ErrorCode("not_implemented", 501, grpc.StatusCode.UNIMPLEMENTED, "The server does not support this request."),
    ErrorCode("charge_not_found", 404, grpc.StatusCode.NOT_FOUND, "No charge with this charge_id."),
    ErrorCode("payer_not_found", 404, grpc.StatusCode.NOT_FOUND, "The client has no payer with this payer_id."),
    ErrorCode(
        "contract_not_found", 404, grpc.StatusCode.NOT_FOUND, "The client has no contract with this contract_id."
    ),
    ErrorCode("invoice_not_found", 404, grpc.StatusCode.NOT_FOUND, "The client has no invoice with this invoice_id."),
    ErrorCode(
        "invalid_month", 422, grpc.StatusCode.INVALID_ARGUMENT, "A month is written YYYY-MM, in the years 2000 to 2999."
    ),
    ErrorCode("invalid_period", 422, grpc.StatusCode.INVALID_ARGUMENT, "The period's start is after its end."),
    ErrorCode(
        "reconciliation_not_found",
        404,
        grpc.StatusCode.NOT_FOUND,
        "The month has not been reconciled in this workspace yet.",
    ),
    ErrorCode(
        "credit_transfer_not_found",
        404,
        grpc.StatusCode.NOT_FOUND,
        "The client has no credit transfer with this transfer_id.",
    ),
    ErrorCode("plan_not_found", 404, grpc.StatusCode.NOT_FOUND, "No active plan with this code."),
    ErrorCode("subscription_not_found", 404, grpc.StatusCode.NOT_FOUND, "No subscription with this id."),
    ErrorCode("webhook_endpoint_not_found", 404, grpc.StatusCode.NOT_FOUND, "No webhook endpoint with this id."),
    ErrorCode("webhook_delivery_not_found", 404, grpc.StatusCode.NOT_FOUND, "No delivery with this id."),
    ErrorCode("family_not_found", 404, grpc.StatusCode.NOT_FOUND, "No family account with this id in the workspace."),
    ErrorCode("member_not_found", 404, grpc.StatusCode.NOT_FOUND, "The user is not a member of this family."),
    ErrorCode("spending_not_found", 404, grpc.StatusCode.NOT_FOUND, "No spending with this spending_id."),
    ErrorCode(
        "not_owner", 403, grpc.StatusCode.PERMISSION_DENIED, "Only the family's owner may do this (acting_user_id)."
    ),
    ErrorCode("already_in_family", 409, grpc.StatusCode.ALREADY_EXISTS, "The user is already in a family."),
    ErrorCode("family_full", 422, grpc.StatusCode.FAILED_PRECONDITION, "The family holds as many members as it may."),
    ErrorCode(
        "stale_revision",
        409,
        grpc.StatusCode.ABORTED,
        "The family account changed since this revision; read it again and retry with its revision.",
    ),
    ErrorCode(
        "limit_exceeded",
        422,
        grpc.StatusCode.FAILED_PRECONDITION,
        "The amount is more than what is left of the member's limit this frame.",
    ),
    ErrorCode("card_declined", 422, grpc.StatusCode.FAILED_PRECONDITION, "The card payment system declined the card."),
    ErrorCode(
        "identity_unavailable",
        503,
        grpc.StatusCode.UNAVAILABLE,
        "The identity provider (a migrated family's members) is unavailable; retry after Retry-After seconds.",
        retry_after=True,
    ),
    ErrorCode(
        "identity_account_required",
        422,
        grpc.StatusCode.FAILED_PRECONDITION,
        "The user needs a full (portal) account at the identity provider for this.",
    ),
    ErrorCode(
        "refund_not_allowed",
        422,
        grpc.StatusCode.FAILED_PRECONDITION,
        "The plan's refund policy gives nothing back for this subscription now.",
    ),
    ErrorCode(
        "payment_method_not_saved",
        409,
        grpc.StatusCode.FAILED_PRECONDITION,
        "The subscription has no saved card to renew with.",
    ),
    ErrorCode(
        "payment_provider_not_configured",
        409,
        grpc.StatusCode.FAILED_PRECONDITION,
        "The workspace has no card payment provider shop configured.",
    ),
    ErrorCode(
        "rate_limited",
        429,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "Too many requests from this source; retry after Retry-After seconds (also in details.retry_after).",
        retry_after=True,
    ),
    ErrorCode("method_not_allowed", 405, grpc.StatusCode.UNIMPLEMENTED, "The path does not accept this method."),
    ErrorCode("idempotency_conflict", 409, grpc.StatusCode.ALREADY_EXISTS, "The id was used with another body."),
    ErrorCode(
        "in_progress",
        409,
        grpc.StatusCode.ABORTED,
        "A call with this Idempotency-Key is still running; retry after Retry-After seconds.",
        retry_after=True,
    ),
    ErrorCode("invalid_state", 409, grpc.StatusCode.FAILED_PRECONDITION, "The resource's state does not allow this."),
    ErrorCode(
        "client_needs_attention",
        409,
        grpc.StatusCode.FAILED_PRECONDITION,
        "The client's registration in Balance is ambiguous and waits for an operator.",
    ),
    ErrorCode(
        "needs_attention",
        409,
        grpc.StatusCode.FAILED_PRECONDITION,
        "A call to Balance had an ambiguous outcome; the resource waits for an operator.",
    ),
    ErrorCode(
        "contract_exists",
        409,
        grpc.StatusCode.ALREADY_EXISTS,
        "The client already has a contract in this currency (one wallet, one contract feeding it).",
    ),
    ErrorCode(
        "no_active_contract",
        409,
        grpc.StatusCode.FAILED_PRECONDITION,
        "The client has no active contract: add a payer and a contract first.",
    ),
    ErrorCode(
        "contract_not_postpay",
        409,
        grpc.StatusCode.FAILED_PRECONDITION,
        "The client's active contract is prepay: it has no credit limit.",
    ),
    ErrorCode(
        "credit_limit_exceeded",
        422,
        grpc.StatusCode.FAILED_PRECONDITION,
        "The credit transfer would exceed the contract's credit limit; details.credit_available says what is left.",
    ),
    ErrorCode(
        "insufficient_funds",
        422,
        grpc.StatusCode.FAILED_PRECONDITION,
        "The wallet's available money is less than the amount.",
    ),
    ErrorCode("currency_mismatch", 422, grpc.StatusCode.INVALID_ARGUMENT, "The currency is not the wallet's."),
    ErrorCode(
        "refund_exceeds_charge",
        422,
        grpc.StatusCode.FAILED_PRECONDITION,
        "Refunds would exceed what was charged.",
    ),
    ErrorCode(
        "upstream_rejected",
        422,
        grpc.StatusCode.FAILED_PRECONDITION,
        "The upstream system refused the data; details carry its code.",
    ),
    ErrorCode(
        "upstream_error",
        502,
        grpc.StatusCode.UNAVAILABLE,
        "The upstream system answered with an error; retry after Retry-After seconds.",
        retry_after=True,
    ),
    ErrorCode(
        "upstream_unavailable",
        503,
        grpc.StatusCode.UNAVAILABLE,
        "The upstream system is unavailable; retry after Retry-After seconds.",
        retry_after=True,
    ),
    ErrorCode(
        "unavailable",
        503,
        grpc.StatusCode.UNAVAILABLE,
        "billy's database does not answer; nothing was changed, retry after Retry-After seconds.",
        retry_after=True,
    ),
    ErrorCode("internal_error", 500, grpc.StatusCode.INTERNAL, "An unexpected error; it is logged."),
]

ERROR_CODES: dict[str, ErrorCode] = {e.code: e for e in _TABLE}


_GENERIC = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    431: "headers_too_large",
    501: "not_implemented",
    422: "validation_failed",
    503: "upstream_unavailable",
}


def code_for_http_status(status: int) -> str:
    """The generic code for a bare HTTP status produced outside billy's own handlers."""
    return _GENERIC.get(status) or ("bad_request" if 400 <= status < 500 else "internal_error")


# What an error may echo back, whatever a caller sent: a 100,000-character id must not come back in
# a body or in gRPC metadata (whose size is limited: the call would die). Every error is capped here.
MAX_MESSAGE_LENGTH = 400
MAX_DETAIL_TEXT_LENGTH = 200
MAX_DETAIL_ITEMS = 20
MAX_DETAILS_LENGTH = 2000


def _cap_text(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _cap_value(value: Any) -> Any:
    if isinstance(value, str):
        return _cap_text(value, MAX_DETAIL_TEXT_LENGTH)
    if isinstance(value, dict):
        items = list(value.items())[:MAX_DETAIL_ITEMS]
        return {_cap_text(str(k), MAX_DETAIL_TEXT_LENGTH): _cap_value(v) for k, v in items}
    if isinstance(value, list | tuple):
        return [_cap_value(v) for v in value[:MAX_DETAIL_ITEMS]]
    return value


def capped_details(details: dict[str, Any]) -> dict[str, Any]:
    """`details` with long texts and long lists cut; {"truncated": true} if still over MAX_DETAILS_LENGTH."""
    capped = _cap_value(details)
    if len(json.dumps(capped, default=str)) > MAX_DETAILS_LENGTH:
        return {"truncated": True}
    return capped


class BillyError(Exception):
    """Base of every error with a stable code. Subclasses set `code` and a default message."""

    code: str = "internal_error"
    default_message: str = "Internal error."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.message = _cap_text(message or self.default_message, MAX_MESSAGE_LENGTH)
        self.details = capped_details(details or {})
        if retry_after is None and ERROR_CODES[self.code].retry_after:
            from django.conf import settings

            retry_after = settings.BILLY_RETRY_AFTER_SECONDS
        self.retry_after = retry_after
        super().__init__(self.message)

    @property
    def spec(self) -> ErrorCode:
        return ERROR_CODES[self.code]

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class CommandError(Exception):
    """A command-line command refused to go on for a reason of its own (not an API error, so it has no
    HTTP or gRPC status): a stable code and one sentence, printed as `billy: <code>: <message>`."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


class ValidationFailed(BillyError):
    """Input is well-formed but invalid. `details={"fields": {name: [message, ...]}}`."""

    code = "validation_failed"
    default_message = "Some fields are invalid."

    def __init__(self, fields: dict[str, list[str]], message: str | None = None) -> None:
        super().__init__(message, details={"fields": fields})
        self.fields = fields


class Unauthenticated(BillyError):
    code = "unauthenticated"
    default_message = "A valid API key is required: Authorization: Bearer <key>."


class Forbidden(BillyError):
    code = "forbidden"
    default_message = "This API key lacks the role this call needs."


class IdempotencyConflict(BillyError):
    code = "idempotency_conflict"
    default_message = "This id was already used with another body."


class InvalidState(BillyError):
    code = "invalid_state"
    default_message = "The resource's state does not allow this."


class UpstreamUnavailable(BillyError):
    code = "upstream_unavailable"
    default_message = "An upstream system is unavailable; retry later."


class UpstreamRejected(BillyError):
    code = "upstream_rejected"
    default_message = "The upstream system refused the request."


class UpstreamError(BillyError):
    code = "upstream_error"
    default_message = "The upstream system answered with an error."
