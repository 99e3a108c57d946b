"""The real identity provider adapter: HTTP JSON with httpx.

All protocol knowledge lives here: paths, the bearer token, the error body, and which answers mean
"nothing happened" (connection refused, 503, 429) or "it may have happened" (a timeout, a dropped
connection, another 5xx). Each call opens its own connection (no keep-alive: a pooled connection
the server has closed would fail a call for no reason of its own), through one client per adapter,
so the client's set-up (its TLS context) is paid once, not per call; the client is thread-safe.
"""

from __future__ import annotations

from typing import Any

import httpx

from billy.integrations.http_json import Outcomes, call_json
from billy.integrations.http_json import path_segment as _segment

from .port import (
    NO_SUCH_USER,
    IdentityOutcomeUnknown,
    IdentityRateLimited,
    IdentityRejected,
    IdentityUnavailable,
    IdentityUser,
    ProviderFamily,
    ProviderMember,
)

_OUTCOMES = Outcomes(
    unavailable=IdentityUnavailable,
    unknown=IdentityOutcomeUnknown,
    rejected=IdentityRejected,
    rate_limited=IdentityRateLimited,
)


class HttpIdentityProvider:
    def __init__(self, url: str, token: str, *, connect_timeout: float = 3.0, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._http = httpx.Client(timeout=self.timeout, limits=httpx.Limits(max_keepalive_connections=0))

    def _call(self, method: str, path: str, *, body: dict | None = None) -> Any:
        what = f"identity provider {method} {path}"
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        return call_json(self._http, method, self.url + path, what=what, outcomes=_OUTCOMES, headers=headers, body=body)

    def get_user(self, *, uid: str) -> IdentityUser | None:
        try:
            data = self._call("GET", f"/v1/users/{_segment(uid)}")
        except IdentityRejected as e:
            if e.code == NO_SUCH_USER:
                return None
            raise
        try:
            return IdentityUser(uid=data["uid"], phone=data.get("phone") or "", portal=bool(data["portal"]))
        except (KeyError, TypeError) as e:
            raise IdentityUnavailable(f"identity provider: unexpected user {str(data)[:200]}: {e}") from e

    def get_family(self, *, uid: str) -> ProviderFamily | None:
        try:
            data = self._call("GET", f"/v1/users/{_segment(uid)}/family")
        except IdentityRejected as e:
            if e.code == NO_SUCH_USER:
                return None
            raise
        found = data.get("family") if isinstance(data, dict) else None
        return None if found is None else _family(found, unreadable=IdentityUnavailable)

    def create_family(self, *, admin: str) -> ProviderFamily:
        return _family(self._call("POST", "/v1/families", body={"admin": admin}))

    def delete_family(self, *, family_id: str) -> None:
        self._call("DELETE", f"/v1/families/{_segment(family_id)}")

    def add_member(self, *, family_id: str, uid: str) -> ProviderFamily:
        return _family(self._call("POST", f"/v1/families/{_segment(family_id)}/members", body={"uid": uid}))

    def remove_member(self, *, family_id: str, uid: str) -> ProviderFamily:
        return _family(self._call("DELETE", f"/v1/families/{_segment(family_id)}/members/{_segment(uid)}"))

    def leave(self, *, family_id: str, uid: str) -> ProviderFamily:
        return _family(self._call("POST", f"/v1/families/{_segment(family_id)}/leave", body={"uid": uid}))


def _family(data: Any, *, unreadable: type[Exception] = IdentityOutcomeUnknown) -> ProviderFamily:
    try:
        return ProviderFamily(
            family_id=data["family_id"],
            admin=data["admin"],
            members=tuple(ProviderMember(uid=m["uid"], phone=m.get("phone") or "") for m in data["members"]),
        )
    except (KeyError, TypeError) as e:
        raise unreadable(f"identity provider: unexpected family {str(data)[:200]}: {e}") from e
