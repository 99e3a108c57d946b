"""A notification service emulator: an outbox that accepts notifications and keeps them for inspection.

It speaks the API documented in `billy.integrations.notifications`. A notification is kept as
`{"id", "key", "scope", "user_id", "template", "params", "at"}`; its key makes it unique: the same
key with the same body answers 200 with the stored notification (outcome `replayed`), the same key
with another body is a 409 `idempotency_conflict`. Nothing is delivered anywhere: `GET /` is an
HTML page listing the notifications, newest first, for a developer to read in a browser.

Control API (the shared part — faults, request log, reset, health — is described in
`billy.integrations.emulation`):

- `GET /_emulator/notifications[?user_id=&template=]`   notifications, oldest first

With `state_file`, notifications survive a restart.
"""

from __future__ import annotations

import html
import uuid
from pathlib import Path
from typing import Any

from billy.integrations.emulation import (
    Emulator,
    EmulatorApp,
    EmulatorControl,
    Reply,
    Request,
    error,
    query_filter,
    timestamp,
)

DEV_TOKEN = "dev-notifications-token"  # the settings' default NOTIFICATIONS_TOKEN
_CONTENT = ("scope", "user_id", "template", "params")  # what a repeated key must repeat
_MAX_KEY = 255


class NotificationsApp(EmulatorApp):
    name = "notifications"

    def forget(self) -> None:
        self.notifications: dict[str, dict[str, Any]] = {}  # key → notification, in arrival order

    def dump(self) -> dict[str, Any]:
        return {"notifications": list(self.notifications.values())}

    def load(self, saved: dict[str, Any]) -> None:
        self.notifications = {n["key"]: n for n in saved["notifications"]}

    def describe(self, request: Request) -> dict[str, Any]:
        fields = dict(request.query)
        if request.method == "POST":
            try:
                fields = request.json()
            except ValueError:
                fields = {}
            if not isinstance(fields, dict):
                fields = {}
        return {f: fields.get(f) for f in ("key", "scope", "user_id", "template")}

    def handle(self, request: Request) -> Reply:
        if request.segments != ["v1", "notifications"]:
            return error(404, "not_found", f"no {request.method} {request.path}")
        if request.method == "POST":
            return self._accept(request)
        if request.method == "GET":
            listed = query_filter(list(self.notifications.values()), request.query, ("scope", "user_id"))
            return Reply(200, {"notifications": listed})
        return error(405, "method_not_allowed", f"{request.method} is not allowed here; use POST or GET")

    def handle_other(self, request: Request) -> Reply | None:
        if request.method != "GET":
            return None
        with self.lock:
            notifications = list(self.notifications.values())
        if request.path == "/_emulator/notifications":
            return Reply(200, {"notifications": query_filter(notifications, request.query, ("user_id", "template"))})
        if request.path == "/":
            return Reply(200, _outbox_page(notifications), content_type="text/html")
        return None

    def _accept(self, request: Request) -> Reply:
        try:
            data = request.json()
        except ValueError:
            return error(400, "bad_request", "the body is a JSON object")
        problem = _problem(data)
        if problem:
            return error(400, "bad_request", problem)
        content = {f: data[f] for f in _CONTENT}
        existing = self.notifications.get(data["key"])
        if existing is not None:
            if {f: existing[f] for f in _CONTENT} != content:
                return error(409, "idempotency_conflict", f"key {data['key']!r} was used with another body")
            return Reply(200, existing, outcome="replayed")
        notification = {"id": str(uuid.uuid4()), "key": data["key"], **content, "at": timestamp()}
        self.notifications[data["key"]] = notification
        self.save()
        return Reply(201, notification, outcome="applied")


def _problem(data: Any) -> str | None:
    """What is wrong with a notification body, or None."""
    if not isinstance(data, dict):
        return "the body is a JSON object"
    for field in ("key", "scope", "user_id", "template"):
        if not isinstance(data.get(field), str) or not data[field]:
            return f"{field} is a non-empty string"
    if len(data["key"]) > _MAX_KEY:
        return f"key is at most {_MAX_KEY} characters"
    params = data.get("params")
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        return "params is an object of strings"
    return None


def _outbox_page(notifications: list[dict[str, Any]]) -> str:
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(cell))}</td>"
            for cell in (n["at"], n["scope"], n["user_id"], n["template"], _params(n["params"]), n["key"])
        )
        + "</tr>"
        for n in reversed(notifications)
    )
    empty = "" if notifications else "<p>No notifications yet.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Outbox — notification service emulator</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}}</style></head>
<body><h1>Outbox</h1><p>{len(notifications)} notification(s), newest first.</p>{empty}
<table><thead><tr><th>at</th><th>scope</th><th>user</th><th>template</th><th>params</th><th>key</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


def _params(params: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items()))


class NotificationsEmulator(Emulator):
    """The notification service emulator, served in a background thread or the foreground."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, state_file: Path | None = None, token: str = DEV_TOKEN
    ) -> None:
        super().__init__(NotificationsApp(token=token, state_file=state_file), host=host, port=port)


class NotificationsEmulatorControl(EmulatorControl):
    """Drives a running notification service emulator's control API."""

    def notifications(self, user_id: str | None = None, template: str | None = None) -> list[dict[str, Any]]:
        return self._get("/_emulator/notifications", user_id=user_id, template=template)["notifications"]
