"""The real Auth API adapter: HTTP JSON with httpx and one timeout for connect and read.

All protocol knowledge lives here: paths, the bearer token, the `Idempotency-Key` header, the
error body, and which answers mean "retry later". Each call opens its own connection: a pooled
keep-alive connection the server has closed would fail a request for no reason of its own.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import httpx

from .port import AuthApiRejected, AuthApiUnavailable


class HttpAuthApi:
    def __init__(self, url: str, token: str, *, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _call(self, method: str, path: str, *, key: str | None = None) -> dict[str, Any]:
        what = f"Auth API {method} {path}"
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        try:
            with httpx.Client(timeout=self.timeout) as http:
                response = http.request(method, self.url + path, headers=headers)
        except httpx.TransportError as e:
            raise AuthApiUnavailable(f"{what}: {type(e).__name__}: {e}") from e
        return _result(what, response)

    def grant_role(self, *, scope: str, user_id: str, role: str, key: str) -> None:
        self._call("PUT", _roles_path(scope, user_id, role), key=key)

    def revoke_role(self, *, scope: str, user_id: str, role: str, key: str) -> None:
        self._call("DELETE", _roles_path(scope, user_id, role), key=key)

    def user_roles(self, *, scope: str, user_id: str) -> list[str]:
        what = f"Auth API roles of {user_id!r} in {scope!r}"
        roles = self._call("GET", _roles_path(scope, user_id)).get("roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise AuthApiUnavailable(f"{what}: unexpected answer {roles!r}")
        return sorted(roles)


def _roles_path(scope: str, user_id: str, role: str | None = None) -> str:
    segments = [scope, user_id] if role is None else [scope, user_id, role]
    for segment in segments:
        # Quoting keeps "/" inside a segment, but "." and ".." would still address another path.
        if segment in ("", ".", ".."):
            raise ValueError(f"not a valid scope, user id or role: {segment!r}")
    quoted = [urllib.parse.quote(s, safe="") for s in segments]
    path = f"/v1/scopes/{quoted[0]}/users/{quoted[1]}/roles"
    return path if role is None else f"{path}/{quoted[2]}"


def _result(what: str, response: httpx.Response) -> dict[str, Any]:
    status = response.status_code
    if status == 200:
        try:
            data = response.json()
        except ValueError as e:
            raise AuthApiUnavailable(f"{what}: unreadable answer: {e}") from e
        if not isinstance(data, dict):
            raise AuthApiUnavailable(f"{what}: unexpected answer {data!r}")
        return data
    if status == 429 or status >= 500 or status < 400:
        # The calls are idempotent: whatever happened, repeating with the same key is safe.
        raise AuthApiUnavailable(f"{what}: HTTP {status}")
    try:
        body = response.json()
    except ValueError:
        body = None
    details = body.get("error") if isinstance(body, dict) else None
    if not isinstance(details, dict):
        details = {}
    raise AuthApiRejected(
        str(details.get("code") or f"http_{status}"), f"{what}: {details.get('message') or response.reason_phrase}"
    )
