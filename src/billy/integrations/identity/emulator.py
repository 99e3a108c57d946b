"""An identity provider emulator: users by uid (a phone, a flag for a full "portal" account) and
families (an admin and members), behind the API documented in `billy.integrations.identity`.

Rules, as the provider has them: a user is in at most one family; a family holds at most
`max_members` users (the admin included); only users with a portal account may create or join a
family. With `rate` (requests a second, a token bucket as deep as one second), API requests past
the rate are refused with 429 `rate_limited`, as the real provider throttles its callers.

Control API (the shared part — faults, request log, reset, health — is in
`billy.integrations.emulation`):

- `POST /_emulator/users` `{"uid", "phone", "portal": true|false}` → 201 the user (200 when it
  replaces one): add a user, or give an existing one a portal account;
- `GET /_emulator/users`, `GET /_emulator/families` → `{"families": [...]}`;
- `POST /_emulator/rate` `{"rate": N | null}`: throttle API requests (null: no limit).

With `state_file`, users and families survive a restart.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from billy.integrations.emulation import Emulator, EmulatorApp, EmulatorControl, Reply, Request, error

DEV_TOKEN = "dev-identity-token"  # the settings' default IDENTITY_TOKEN
MAX_MEMBERS = 8


class _Bucket:
    """A token bucket: `rate` requests a second, as deep as one second's worth."""

    def __init__(self, rate: float | None) -> None:
        self._lock = threading.Lock()
        self.set(rate)

    def set(self, rate: float | None) -> None:
        with self._lock:
            self.rate = rate
            self._tokens = rate or 0.0
            self._at = time.monotonic()

    def take(self) -> bool:
        with self._lock:
            if not self.rate:
                return True
            now = time.monotonic()
            self._tokens = min(self.rate, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


class IdentityApp(EmulatorApp):
    name = "identity"

    def __init__(self, *, max_members: int = MAX_MEMBERS, rate: float | None = None, **kwargs: Any) -> None:
        self.max_members = max_members
        self.bucket = _Bucket(rate)
        super().__init__(**kwargs)

    def forget(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.families: dict[str, dict[str, Any]] = {}
        self.family_of: dict[str, str] = {}  # uid → family_id
        self.next_id = 1000

    def dump(self) -> dict[str, Any]:
        return {"users": self.users, "families": self.families, "next": self.next_id}

    def load(self, saved: dict[str, Any]) -> None:
        self.users, self.families = saved["users"], saved["families"]
        self.family_of = {uid: f["family_id"] for f in self.families.values() for uid in f["members"]}
        self.next_id = saved.get("next", 1000)

    def describe(self, request: Request) -> dict[str, Any]:
        operation = None
        match request.method, request.segments:
            case "GET", ["v1", "users", _]:
                operation = "get_user"
            case "GET", ["v1", "users", _, "family"]:
                operation = "get_family"
            case "POST", ["v1", "families"]:
                operation = "create_family"
            case "DELETE", ["v1", "families", _]:
                operation = "delete_family"
            case "POST", ["v1", "families", _, "members"]:
                operation = "add_member"
            case "DELETE", ["v1", "families", _, "members", _]:
                operation = "remove_member"
            case "POST", ["v1", "families", _, "leave"]:
                operation = "leave"
        return {"operation": operation}

    def _view(self, family: dict[str, Any]) -> dict[str, Any]:
        return {
            "family_id": family["family_id"],
            "admin": family["admin"],
            "members": [{"uid": uid, "phone": self.users.get(uid, {}).get("phone", "")} for uid in family["members"]],
        }

    def _body_uid(self, request: Request, field: str) -> str | None:
        try:
            body = request.json() if request.body else {}
        except ValueError:
            return None
        value = body.get(field) if isinstance(body, dict) else None
        return value if isinstance(value, str) and value else None

    def _joinable(self, uid: str | None, family_id: str | None = None) -> Reply | None:
        """Why `uid` may not join (or create) a family, or None."""
        if uid is None:
            return error(400, "bad_request", "a uid is needed")
        user = self.users.get(uid)
        if user is None:
            return error(404, "no_such_user", f"no user {uid!r}")
        if not user["portal"]:
            return error(422, "no_portal_account", f"user {uid!r} has no portal account")
        current = self.family_of.get(uid)
        if current is not None:
            if current == family_id:
                return error(409, "already_in_this_family", f"user {uid!r} is already in this family")
            return error(409, "in_another_family", f"user {uid!r} is in another family")
        return None

    # -- the API ---------------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:  # noqa: PLR0911 (one answer per route)
        if not self.bucket.take():
            return error(429, "rate_limited", "too many requests; slow down", outcome="rate_limited")
        match request.method, request.segments:
            case "GET", ["v1", "users", uid]:
                user = self.users.get(uid)
                return Reply(200, user) if user else error(404, "no_such_user", f"no user {uid!r}")
            case "GET", ["v1", "users", uid, "family"]:
                family_id = self.family_of.get(uid)
                return Reply(200, {"family": self._view(self.families[family_id]) if family_id else None})
            case "POST", ["v1", "families"]:
                return self._create(self._body_uid(request, "admin"))
            case "DELETE", ["v1", "families", family_id]:
                family = self.families.pop(family_id, None)
                if family is None:
                    return error(404, "family_not_found", f"no family {family_id!r}")
                for uid in family["members"]:
                    self.family_of.pop(uid, None)
                self.save()
                return Reply(200, {"deleted": family_id}, outcome="applied")
            case "POST", ["v1", "families", family_id, "members"]:
                return self._add(family_id, self._body_uid(request, "uid"))
            case "DELETE", ["v1", "families", family_id, "members", uid]:
                return self._remove(family_id, uid)
            case "POST", ["v1", "families", family_id, "leave"]:
                return self._remove(family_id, self._body_uid(request, "uid"))
        return error(404, "not_found", f"no {request.method} {request.path}")

    def _create(self, admin: str | None) -> Reply:
        refused = self._joinable(admin)
        if refused is not None:
            return refused
        family_id = f"f{self.next_id}"
        self.next_id += 1
        self.families[family_id] = {"family_id": family_id, "admin": admin, "members": [admin]}
        self.family_of[admin] = family_id
        self.save()
        return Reply(201, self._view(self.families[family_id]), outcome="applied")

    def _add(self, family_id: str, uid: str | None) -> Reply:
        family = self.families.get(family_id)
        if family is None:
            return error(404, "family_not_found", f"no family {family_id!r}")
        refused = self._joinable(uid, family_id)
        if refused is not None:
            return refused
        if len(family["members"]) >= self.max_members:
            return error(422, "family_full", f"the family holds {self.max_members} members at most")
        family["members"].append(uid)
        self.family_of[uid] = family_id
        self.save()
        return Reply(200, self._view(family), outcome="applied")

    def _remove(self, family_id: str, uid: str | None) -> Reply:
        family = self.families.get(family_id)
        if family is None:
            return error(404, "family_not_found", f"no family {family_id!r}")
        if uid is None or uid not in family["members"] or uid == family["admin"]:
            return error(404, "not_a_member", f"{uid!r} is not a member of the family (the admin deletes it)")
        family["members"].remove(uid)
        self.family_of.pop(uid, None)
        self.save()
        return Reply(200, self._view(family), outcome="applied")

    # -- the control API -------------------------------------------------------------------------
    def handle_other(self, request: Request) -> Reply | None:
        match request.method, request.path:
            case "POST", "/_emulator/users":
                return self._put_user(request)
            case "GET", "/_emulator/users":
                with self.lock:
                    return Reply(200, {"users": list(self.users.values())})
            case "GET", "/_emulator/families":
                with self.lock:
                    return Reply(200, {"families": [self._view(f) for f in self.families.values()]})
            case "POST", "/_emulator/rate":
                try:
                    rate = request.json().get("rate")
                except (ValueError, AttributeError):
                    rate = "?"
                if rate is not None and (not isinstance(rate, int | float) or rate <= 0):
                    return error(400, "bad_request", 'the body is {"rate": <requests a second> | null}')
                self.bucket.set(rate)
                return Reply(200, {"rate": rate})
        return None

    def _put_user(self, request: Request) -> Reply:
        try:
            body = request.json()
        except ValueError:
            body = None
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("uid"), str)
            or not body["uid"]
            or not isinstance(body.get("phone", ""), str)
            or not isinstance(body.get("portal", True), bool)
        ):
            return error(400, "bad_request", 'a user is {"uid", "phone", "portal": true|false}')
        user = {"uid": body["uid"], "phone": body.get("phone", ""), "portal": body.get("portal", True)}
        with self.lock:
            known = user["uid"] in self.users
            self.users[user["uid"]] = user
            self.save()
        return Reply(200 if known else 201, user)


class IdentityEmulator(Emulator):
    """The identity provider emulator, served in a background thread or the foreground."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: Path | None = None,
        *,
        token: str = DEV_TOKEN,
        rate: float | None = None,
        max_members: int = MAX_MEMBERS,
    ) -> None:
        app = IdentityApp(token=token, state_file=state_file, rate=rate, max_members=max_members)
        super().__init__(app, host=host, port=port)


class IdentityEmulatorControl(EmulatorControl):
    """Drives a running identity provider emulator's control API."""

    def add_user(self, uid: str, *, phone: str = "", portal: bool = True) -> dict[str, Any]:
        response = self._http.post("/_emulator/users", json={"uid": uid, "phone": phone, "portal": portal})
        response.raise_for_status()
        return response.json()

    def users(self) -> list[dict[str, Any]]:
        return self._get("/_emulator/users")["users"]

    def families(self) -> list[dict[str, Any]]:
        return self._get("/_emulator/families")["families"]

    def set_rate(self, rate: float | None) -> None:
        self._http.post("/_emulator/rate", json={"rate": rate}).raise_for_status()
