"""The real notification service adapter: HTTP JSON with httpx and one timeout for connect and read.

All protocol knowledge lives here: the path, the bearer token, the body, the error body, and
which answers mean "retry later". Each call opens its own connection: a pooled keep-alive
connection the server has closed would fail a request for no reason of its own.
"""

from __future__ import annotations

import httpx

from .port import NotificationRejected, NotificationsUnavailable


class HttpNotifier:
    def __init__(self, url: str, token: str, *, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def send(self, *, key: str, scope: str, user_id: str, template: str, params: dict[str, str]) -> None:
        what = f"notification {key!r} ({template} to {user_id!r})"
        body = {"key": key, "scope": scope, "user_id": user_id, "template": template, "params": dict(params)}
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        try:
            with httpx.Client(timeout=self.timeout) as http:
                response = http.post(self.url + "/v1/notifications", json=body, headers=headers)
        except httpx.TransportError as e:
            raise NotificationsUnavailable(f"{what}: {type(e).__name__}: {e}") from e
        status = response.status_code
        if status in (200, 201):  # 200: the key was seen with this body; it was sent once
            return
        if status == 429 or status >= 500 or status < 400:
            raise NotificationsUnavailable(f"{what}: HTTP {status}")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        details = answer.get("error") if isinstance(answer, dict) else None
        if not isinstance(details, dict):
            details = {}
        raise NotificationRejected(
            str(details.get("code") or f"http_{status}"), f"{what}: {details.get('message') or response.reason_phrase}"
        )
