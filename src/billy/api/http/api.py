"""The NinjaAPI instance: /api/v1, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs (served
from billy's own static files: they work offline). The callbacks other systems make to billy have
their own document, /api/v1/callbacks/openapi.json (see `openapi`)."""

from ninja import NinjaAPI

from . import (
    acts,
    callbacks,
    charges,
    clients,
    contracts,
    events,
    families,
    family_spendings,
    invoices,
    payers,
    subscriptions,
    wallets,
    webhooks,
)
from .auth import ApiKeyAuth
from .errors import install_handlers
from .openapi import callbacks_document, product_document
from .rendering import BillyJsonRenderer, json_response
from .strict import StrictJsonParser


class BillyApi(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__  # verb_resource: create_charge, list_client_charges

    def get_openapi_schema(self, **kwargs):
        return product_document(self, super().get_openapi_schema(**kwargs))

    def get_callbacks_schema(self, **kwargs):
        return callbacks_document(self, super().get_openapi_schema(**kwargs))


api = BillyApi(
    title="billy",
    version="1",
    description=(
        "billy's HTTP API. Authenticate with `Authorization: Bearer <API key>`. Every error is "
        '`{"error": {"code", "message", "details", "request_id"}}` with a stable code (`ErrorCode`); '
        "each operation lists the codes it can answer by status. Money is a decimal string; timestamps are "
        "RFC 3339 in UTC with six fractional digits and `Z`; enum values are UPPER case. Every answer carries a "
        "`Request-Id` (send your own, 1-128 of `A-Z a-z 0-9 . _ : / + = @ -`, to have it used and logged). "
        "A request line longer than 4094 bytes is 414 `uri_too_long`; more than 100 headers, or one over "
        "8190 bytes, is 431 `headers_too_large`."
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
api.add_router("", payers.router)
api.add_router("", contracts.router)
api.add_router("", invoices.router)
api.add_router("", acts.router)
api.add_router("", acts.reconciliations_router)
api.add_router("", wallets.router)
api.add_router("", charges.router)
api.add_router("", events.router)
api.add_router("", subscriptions.plans_router)
api.add_router("", subscriptions.router)
api.add_router("", families.router)
api.add_router("", family_spendings.router)
api.add_router("", family_spendings.methods_router)
api.add_router("", webhooks.router)
api.add_router("", callbacks.router)


@api.get("/callbacks/openapi.json", auth=None, include_in_schema=False)
def callbacks_openapi(request):
    return json_response(api.get_callbacks_schema())
