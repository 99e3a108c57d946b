"""The identity provider (Я.Паспорт): users by uid and their families, over HTTP JSON.

The calls billy makes (every request carries `Authorization: Bearer <token>`):

- `GET /v1/users/{uid}` → `{"uid", "phone", "portal": true|false}`; 404 `no_such_user`.
- `GET /v1/users/{uid}/family` → `{"family": null}` or `{"family": {"family_id", "admin",
  "members": [{"uid", "phone"}]}}` (the admin is one of the members).
- `POST /v1/families` `{"admin": uid}` → 201 the new family; 409 `in_another_family` (the user is
  in a family already), 404 `no_such_user`, 422 `no_portal_account`.
- `DELETE /v1/families/{family_id}` → 200 `{"deleted": family_id}`; 404 `family_not_found`.
- `POST /v1/families/{family_id}/members` `{"uid"}` → 200 the family; 409 `already_in_this_family`,
  `in_another_family`; 422 `family_full`, `no_portal_account`; 404 `no_such_user`, `family_not_found`.
- `DELETE /v1/families/{family_id}/members/{uid}` (the admin removes a member) and
  `POST /v1/families/{family_id}/leave` `{"uid"}` (a member leaves) → 200 the family; 404
  `not_a_member`.

Errors are `{"error": {"code", "message"}}`. Connection refused, 503 and 429 mean nothing was done;
a timeout and another 5xx mean the outcome is unknown: billy reads the family back.
"""

import functools

from django.conf import settings

from .port import IdentityProvider


def get_identity_provider() -> IdentityProvider:
    """The configured adapter (settings.IDENTITY_URL, IDENTITY_TOKEN, IDENTITY_CONNECT_TIMEOUT,
    IDENTITY_TIMEOUT): one per configuration and process, shared by its threads."""
    return _adapter(
        settings.IDENTITY_URL, settings.IDENTITY_TOKEN, settings.IDENTITY_CONNECT_TIMEOUT, settings.IDENTITY_TIMEOUT
    )


@functools.lru_cache(maxsize=8)
def _adapter(url: str, token: str, connect_timeout: float, timeout: float) -> IdentityProvider:
    from .client import HttpIdentityProvider

    return HttpIdentityProvider(url, token, connect_timeout=connect_timeout, timeout=timeout)
