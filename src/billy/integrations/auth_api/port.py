"""The Auth API port: granting and revoking roles of users, and its errors.

Grant and revoke carry an idempotency key derived from billy's own record, so a call whose
outcome is unknown is simply repeated with the same key: `AuthApiUnavailable` covers both "not
done" and "maybe done", and either way the answer is to retry later. `AuthApiRejected` means the
Auth API refused the call and nothing changed; repeating it will not help.
"""

from __future__ import annotations

from typing import Protocol


class AuthApiError(Exception):
    """Base of every Auth API adapter error."""


class AuthApiUnavailable(AuthApiError):
    """Not reached, timed out, 5xx or 429: the outcome is unknown; retry later with the same key."""


class AuthApiRejected(AuthApiError):
    """The Auth API refused the call (4xx) with an error code; nothing changed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class AuthApi(Protocol):
    def grant_role(self, *, scope: str, user_id: str, role: str, key: str) -> None:
        """Give `user_id` the `role` in `scope`; granting a role the user has is harmless."""
        ...

    def revoke_role(self, *, scope: str, user_id: str, role: str, key: str) -> None:
        """Take the `role` in `scope` from `user_id`; revoking a role the user lacks is harmless."""
        ...

    def user_roles(self, *, scope: str, user_id: str) -> list[str]:
        """The roles `user_id` has in `scope`, sorted."""
        ...
