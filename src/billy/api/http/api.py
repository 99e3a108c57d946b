"""The NinjaAPI instance: /api/v1, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from ninja import NinjaAPI

from . import clients, money, subscriptions, webhooks
from .auth import ApiKeyAuth
from .errors import install_handlers
from .rendering import BillyJsonRenderer
from .strict import StrictJsonParser

# What the door answers before a view runs (see `strict` and `server`), on every operation it applies to.
_BODY_ERRORS = {
    "400": "The body is not one JSON document (bad_request), e.g. a duplicate key.",
    "413": "The body is larger than the limit (payload_too_large).",
    "415": "The body is not sent as Content-Type: application/json (unsupported_media_type).",
}
_INPUT_ERROR = "Invalid fields, or a control character in a query parameter (validation_failed)."


class BillyApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "requestBody" in operation:
                    for status, description in _BODY_ERRORS.items():
                        responses[status] = {"description": description, **error}
                if "requestBody" in operation or operation.get("parameters"):
                    responses["422"] = {"description": _INPUT_ERROR, **error}
        return schema


api = BillyApi(
    title="billy",
    version="1",
    description=(
        "billy's HTTP API. Authenticate with `Authorization: Bearer <API key>`. Every error is "
        '`{"error": {"code", "message", "details"}}` with a stable code. A request line longer than '
        "4094 bytes is 414 `uri_too_long`; more than 100 headers, or one over 8190 bytes, is 431 "
        "`headers_too_large`."
    ),
    urls_namespace="api-v1",
    auth=ApiKeyAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=StrictJsonParser(),
    renderer=BillyJsonRenderer(),
)
install_handlers(api)
api.add_router("", clients.router)
api.add_router("", money.router)
api.add_router("", subscriptions.router)
api.add_router("", webhooks.router)
