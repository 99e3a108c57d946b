"""The Balance port: what billy needs from Balance, in plain dataclasses, and its errors.

Errors say what is known about the call's effect, because that decides what is safe next:
`BalanceUnavailable` and `BalanceFault` mean the call did not take effect; `BalanceOutcomeUnknown`
means it may have (a timeout after sending, a dropped connection, a 5xx other than 503).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ClientData:
    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class BalanceClient:
    client_id: int
    name: str
    email: str
    phone: str


class BalanceError(Exception):
    """Base of every Balance adapter error."""


class BalanceUnavailable(BalanceError):
    """Balance could not be reached or said it is unavailable (503); the call took no effect."""


class BalanceOutcomeUnknown(BalanceError):
    """The call may or may not have taken effect in Balance (timeout after sending, 5xx, reset)."""


class BalanceFault(BalanceError):
    """Balance refused the call with an error code; nothing changed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Balance(Protocol):
    def create_client(self, data: ClientData, *, client_id: int | None = None) -> int:
        """Create a client (or update `client_id`); return its Balance id."""
        ...

    def find_clients(self, data: ClientData) -> list[BalanceClient]:
        """Clients whose name, email and phone all equal `data`'s."""
        ...

    def link_client_to_configuration(self, *, client_id: int, integration: str, configuration: str) -> None:
        """Link a client to a partner configuration; idempotent."""
        ...
