"""The Auth API, which grants and revokes roles of users, over HTTP JSON.

The calls billy makes, as the adapter speaks them (every request carries
`Authorization: Bearer <token>`; `scope`, `user_id` and `role` are URL-quoted path segments):

- `PUT /v1/scopes/{scope}/users/{user_id}/roles/{role}` with `Idempotency-Key: <key>` grants the
  role → 200 `{"scope", "user_id", "role", "granted": true}`.
- `DELETE /v1/scopes/{scope}/users/{user_id}/roles/{role}` with `Idempotency-Key: <key>` revokes
  it → 200 `{..., "granted": false}`.
- `GET /v1/scopes/{scope}/users/{user_id}/roles` → 200 `{"roles": ["subscriber", ...]}`.

The same key with the same request returns the first answer and changes nothing, so a call whose
outcome is unknown is repeated with its key; the same key with another request is a 422
`idempotency_conflict`. Errors are `{"error": {"code", "message"}}`: 400 `bad_request` (bad input,
a missing key), 401 `unauthenticated` (bad token), 404 `not_found` (unknown path). 429 and 5xx
mean "retry later".
"""

from django.conf import settings

from .port import AuthApi


def get_auth_api() -> AuthApi:
    """The configured Auth API adapter (settings.AUTH_API_URL, AUTH_API_TOKEN, AUTH_API_TIMEOUT)."""
    from .client import HttpAuthApi

    return HttpAuthApi(settings.AUTH_API_URL, settings.AUTH_API_TOKEN, timeout=settings.AUTH_API_TIMEOUT)
