"""The identity provider port: users, their families, and the errors billy tells apart.

- `IdentityUnavailable`: not reached, or it said it did nothing (connection refused, 503, 429);
- `IdentityOutcomeUnknown`: a timeout, a dropped connection, another 5xx: a write may have taken
  effect; the caller reads the family back instead of repeating blindly;
- `IdentityRejected`: a 4xx with the provider's code (`in_another_family`, `already_in_this_family`,
  `family_full`, `no_such_user`, `no_portal_account`, ...): nothing changed.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol


class IdentityError(Exception):
    """Base of every identity provider adapter error."""


class IdentityUnavailable(IdentityError):
    """Not reached, or a 503/429: nothing happened; retry later."""


class IdentityRateLimited(IdentityUnavailable):
    """A 429: the provider throttles its callers; nothing happened; slow down."""


class IdentityOutcomeUnknown(IdentityError):
    """A timeout or another 5xx: the call may have taken effect; read back first."""


class IdentityRejected(IdentityError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# The provider's refusal codes billy acts on.
ALREADY_IN_THIS_FAMILY = "already_in_this_family"
IN_ANOTHER_FAMILY = "in_another_family"
FAMILY_FULL = "family_full"
NO_SUCH_USER = "no_such_user"
NO_PORTAL_ACCOUNT = "no_portal_account"
NOT_A_MEMBER = "not_a_member"
FAMILY_NOT_FOUND = "family_not_found"


@dataclasses.dataclass(frozen=True)
class IdentityUser:
    uid: str
    phone: str
    portal: bool  # a full ("portal") account, which a family needs


@dataclasses.dataclass(frozen=True)
class ProviderMember:
    uid: str
    phone: str


@dataclasses.dataclass(frozen=True)
class ProviderFamily:
    family_id: str
    admin: str
    members: tuple[ProviderMember, ...]

    @property
    def uids(self) -> set[str]:
        return {m.uid for m in self.members}


class IdentityProvider(Protocol):
    def get_user(self, *, uid: str) -> IdentityUser | None:
        """The user, or None when the provider has no such uid."""
        ...

    def get_family(self, *, uid: str) -> ProviderFamily | None:
        """The family `uid` belongs to (as admin or member), or None."""
        ...

    def create_family(self, *, admin: str) -> ProviderFamily: ...

    def delete_family(self, *, family_id: str) -> None: ...

    def add_member(self, *, family_id: str, uid: str) -> ProviderFamily: ...

    def remove_member(self, *, family_id: str, uid: str) -> ProviderFamily: ...

    def leave(self, *, family_id: str, uid: str) -> ProviderFamily: ...
