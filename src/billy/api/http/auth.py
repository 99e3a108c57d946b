"""API key authentication: `Authorization: Bearer <key>`; the key's SHA-256 is looked up."""

from ninja.security import HttpBearer

from billy.workspaces.queries import Principal, authenticate_api_key


class ApiKeyAuth(HttpBearer):
    openapi_description = "An API key issued by `billy apikey create` or the admin."

    def authenticate(self, request, token: str) -> Principal | None:
        return authenticate_api_key(token)
