"""An Auth API emulator: roles per (scope, user), behind the API documented in `billy.integrations.auth_api`.

Each idempotency key is remembered with its request and first answer: the same key with the same
request gets that answer again and changes nothing (outcome `replayed`); the same key with another
request is a 422 `idempotency_conflict`. Keys are kept for the emulator's lifetime.

Besides the request log, it keeps the *effects*: the grants and revokes actually applied, one per
distinct key, `{"op": "grant"|"revoke", "scope", "user_id", "role", "key", "at"}`. A test asserts
on effects to see that a retried call changed things once.

Control API (the shared part — faults, request log, reset, health — is described in
`billy.integrations.emulation`):

- `GET /_emulator/effects[?op=grant]`                   effects, oldest first
- `GET /_emulator/roles[?scope=&user_id=]`              `{"roles": [{"scope", "user_id", "roles"}]}`

With `state_file`, roles, effects and idempotency keys survive a restart.
"""

from __future__ import annotations

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

DEV_TOKEN = "dev-auth-token"  # the settings' default AUTH_API_TOKEN
_MAX_SEGMENT = 200
_MAX_KEY = 255


class AuthApp(EmulatorApp):
    name = "auth"

    def forget(self) -> None:
        self.roles: dict[str, dict[str, list[str]]] = {}  # scope → user_id → sorted roles
        self.effects: list[dict[str, Any]] = []
        self.keys: dict[str, dict[str, Any]] = {}  # key → {"request": [op, scope, user, role], "answer"}

    def dump(self) -> dict[str, Any]:
        return {"roles": self.roles, "effects": self.effects, "keys": self.keys}

    def load(self, saved: dict[str, Any]) -> None:
        self.roles, self.effects, self.keys = saved["roles"], saved["effects"], saved["keys"]

    def describe(self, request: Request) -> dict[str, Any]:
        scope = user_id = role = None
        match request.segments:
            case ["v1", "scopes", scope, "users", user_id, "roles"]:
                pass
            case ["v1", "scopes", scope, "users", user_id, "roles", role]:
                pass
        return {"scope": scope, "user_id": user_id, "role": role, "key": request.headers.get("Idempotency-Key")}

    def handle(self, request: Request) -> Reply:
        match request.segments:
            case ["v1", "scopes", scope, "users", user_id, "roles"]:
                if request.method != "GET":
                    return error(405, "method_not_allowed", f"{request.method} is not allowed here; use GET")
                return self._check(scope, user_id) or Reply(200, {"roles": self._roles_of(scope, user_id)})
            case ["v1", "scopes", scope, "users", user_id, "roles", role]:
                op = {"PUT": "grant", "DELETE": "revoke"}.get(request.method)
                if op is None:
                    return error(405, "method_not_allowed", f"{request.method} is not allowed here; use PUT or DELETE")
                key = request.headers.get("Idempotency-Key") or ""
                if not 0 < len(key) <= _MAX_KEY:
                    return error(400, "bad_request", f"an Idempotency-Key header of 1..{_MAX_KEY} characters is needed")
                return self._check(scope, user_id, role) or self._change(op, scope, user_id, role, key)
        return error(404, "not_found", f"no {request.method} {request.path}")

    def handle_other(self, request: Request) -> Reply | None:
        if request.method != "GET":
            return None
        if request.path == "/_emulator/effects":
            with self.lock:
                return Reply(200, {"effects": query_filter(self.effects, request.query, ("op",))})
        if request.path == "/_emulator/roles":
            with self.lock:
                entries = [
                    {"scope": scope, "user_id": user_id, "roles": list(roles)}
                    for scope, users in sorted(self.roles.items())
                    for user_id, roles in sorted(users.items())
                ]
            return Reply(200, {"roles": query_filter(entries, request.query, ("scope", "user_id"))})
        return None

    def _check(self, *segments: str) -> Reply | None:
        for segment in segments:
            if segment in ("", ".", "..") or len(segment) > _MAX_SEGMENT or not segment.isprintable():
                return error(400, "bad_request", f"not a valid scope, user id or role: {segment!r}")
        return None

    def _roles_of(self, scope: str, user_id: str) -> list[str]:
        return list(self.roles.get(scope, {}).get(user_id, []))

    def _change(self, op: str, scope: str, user_id: str, role: str, key: str) -> Reply:
        seen = self.keys.get(key)
        if seen is not None:
            if seen["request"] != [op, scope, user_id, role]:
                return error(422, "idempotency_conflict", f"Idempotency-Key {key!r} was used for another request")
            return Reply(200, seen["answer"], outcome="replayed")
        roles = set(self._roles_of(scope, user_id))
        if op == "grant":
            roles.add(role)
        else:
            roles.discard(role)
        users = self.roles.setdefault(scope, {})
        users[user_id] = sorted(roles)
        if not roles:  # a user without roles is no user of the Auth API
            del users[user_id]
            if not users:
                del self.roles[scope]
        answer = {"scope": scope, "user_id": user_id, "role": role, "granted": op == "grant"}
        self.keys[key] = {"request": [op, scope, user_id, role], "answer": answer}
        self.effects.append({"op": op, "scope": scope, "user_id": user_id, "role": role, "key": key, "at": timestamp()})
        self.save()
        return Reply(200, answer, outcome="applied")


class AuthEmulator(Emulator):
    """The Auth API emulator, served in a background thread (tests) or the foreground (`billy emulate auth`)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, state_file: Path | None = None, token: str = DEV_TOKEN
    ) -> None:
        super().__init__(AuthApp(token=token, state_file=state_file), host=host, port=port)


class AuthEmulatorControl(EmulatorControl):
    """Drives a running Auth API emulator's control API."""

    def effects(self, op: str | None = None) -> list[dict[str, Any]]:
        return self._get("/_emulator/effects", op=op)["effects"]

    def roles(self, scope: str, user_id: str) -> list[str]:
        entries = self._get("/_emulator/roles", scope=scope, user_id=user_id)["roles"]
        return entries[0]["roles"] if entries else []
