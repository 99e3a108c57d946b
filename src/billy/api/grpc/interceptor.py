"""The one place gRPC calls are authenticated, given fresh DB connections, and errors mapped."""

from __future__ import annotations

import contextvars
import json
import logging

import grpc
from django.db import close_old_connections

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


def _bearer(metadata: dict[str, str]) -> str:
    value = metadata.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def abort_with(context: grpc.ServicerContext, error: BillyError) -> None:
    trailers = [("billy-error-code", error.code), ("billy-error-details", json.dumps(error.details))]
    if error.retry_after is not None:
        trailers.append(("retry-after", str(error.retry_after)))
    context.set_trailing_metadata(trailers)
    context.abort(error.spec.grpc_status, error.message)


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
                principal = authenticate_api_key(_bearer(dict(context.invocation_metadata())))
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
