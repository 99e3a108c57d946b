"""The one place gRPC calls are authenticated, given fresh DB connections, and errors mapped."""

from __future__ import annotations

import contextvars
import json
import logging

import grpc
from django.db import close_old_connections
from google.protobuf import any_pb2
from google.protobuf.duration_pb2 import Duration
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from billy.core.database import database_unavailable
from billy.core.errors import BillyError, Unauthenticated
from billy.workspaces.queries import Principal, authenticate_api_key

logger = logging.getLogger(__name__)

_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("billy_principal", default=None)

# Standard services answer without an API key.
_PUBLIC_PREFIXES = ("/grpc.health.", "/grpc.reflection.")


def current_principal() -> Principal:
    principal = _principal.get()
    if principal is None:
        raise Unauthenticated()
    return principal


def _bearer(metadata) -> str:
    """The key of the one `authorization: Bearer <key>` entry; "" when there is none, or several
    (which one counts would be a guess)."""
    values = [value for key, value in metadata if key == "authorization"]
    if len(values) != 1 or not isinstance(values[0], str):
        return ""
    scheme, _, token = values[0].partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


# ErrorInfo's domain: the service that defines the reasons (billy's error codes).
ERROR_DOMAIN = "billy"


def error_status(error: BillyError) -> grpc.Status:
    """The error as a `google.rpc.Status`: the table's gRPC code, the message, and as details an
    `ErrorInfo` (reason: billy's code; metadata: the details, each as a string) and, when a retry
    may succeed later, a `RetryInfo`. Its trailing metadata carries it as `grpc-status-details-bin`."""
    info = error_details_pb2.ErrorInfo(
        reason=error.code,
        domain=ERROR_DOMAIN,
        metadata={key: value if isinstance(value, str) else json.dumps(value) for key, value in error.details.items()},
    )
    details = [info]
    if error.retry_after is not None:
        details.append(error_details_pb2.RetryInfo(retry_delay=Duration(seconds=error.retry_after)))
    packed = []
    for detail in details:
        any_detail = any_pb2.Any()
        any_detail.Pack(detail)
        packed.append(any_detail)
    code = error.spec.grpc_status
    return rpc_status.to_status(status_pb2.Status(code=code.value[0], message=error.message, details=packed))


def abort_with(context: grpc.ServicerContext, error: BillyError) -> None:
    status = error_status(error)
    # billy's own trailers, which clients read before the standard details existed, go alongside.
    trailers = [("billy-error-code", error.code), ("billy-error-details", json.dumps(error.details))]
    if error.retry_after is not None:
        trailers.append(("retry-after", str(error.retry_after)))
    context.set_trailing_metadata([*trailers, *status.trailing_metadata])
    context.abort(status.code, status.details)


class BillyInterceptor(grpc.ServerInterceptor):
    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(_PUBLIC_PREFIXES):
            return handler
        if handler.unary_unary is None:
            # Streaming calls would pass unauthenticated: refuse them until this interceptor wraps them.
            def refuse(request, context):
                context.abort(grpc.StatusCode.UNIMPLEMENTED, "streaming calls are not served")

            return grpc.unary_unary_rpc_method_handler(refuse)
        inner = handler.unary_unary

        def behavior(request, context):
            close_old_connections()
            try:
                principal = authenticate_api_key(_bearer(context.invocation_metadata()))
                if principal is None:
                    raise Unauthenticated()
                token = _principal.set(principal)
                try:
                    return inner(request, context)
                finally:
                    _principal.reset(token)
            except BillyError as e:
                if e.spec.http_status >= 500:  # an upstream down or failing: the call failed, say why
                    logger.warning("%s failed: %s: %s", handler_call_details.method, e.code, e.message)
                abort_with(context, e)
            except Exception as e:
                unavailable = database_unavailable(e)
                if unavailable is not None:
                    method = handler_call_details.method
                    logger.warning("%s failed: %s: %s", method, unavailable.code, unavailable.message)
                    abort_with(context, unavailable)
                else:
                    logger.exception("unhandled error in %s", handler_call_details.method)
                    abort_with(context, BillyError("Internal error; it has been logged."))
            finally:
                close_old_connections()

        return grpc.unary_unary_rpc_method_handler(
            behavior,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
