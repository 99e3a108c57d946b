"""The NinjaAPI instance: /api/v1, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from ninja import NinjaAPI

from . import clients, money, subscriptions
from .auth import ApiKeyAuth
from .errors import install_handlers

api = NinjaAPI(
    title="billy",
    version="1",
    description=(
        "billy's HTTP API. Authenticate with `Authorization: Bearer <API key>`. Every error is "
        '`{"error": {"code", "message", "details"}}` with a stable code.'
    ),
    urls_namespace="api-v1",
    auth=ApiKeyAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_handlers(api)
api.add_router("", clients.router)
api.add_router("", money.router)
api.add_router("", subscriptions.router)
