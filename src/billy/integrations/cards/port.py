"""The card payment system port: users' bound cards and card payments (hold, clear, cancel, refund).

Every write carries an idempotency key derived from billy's own row, and every read is safe to
repeat. Outcomes are told apart as the domain needs them:

- `CardSystemUnavailable`: the call did not reach the system, or it said it did nothing (connection
  refused, 503): nothing happened;
- `CardSystemOutcomeUnknown`: a timeout, a dropped connection, another 5xx: it may have happened;
  the caller reads the payment back by its key (`find_payment`) instead of repeating blindly;
- `CardSystemRejected`: a 4xx with the system's code (`card_not_found`, `declined`, ...): nothing
  happened, and repeating will not help.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol


class CardSystemError(Exception):
    """Base of every card payment system adapter error."""


class CardSystemUnavailable(CardSystemError):
    """Not reached, or a 503/429: nothing happened; retry later."""


class CardSystemOutcomeUnknown(CardSystemError):
    """A timeout or another 5xx: the call may have taken effect; read back before doing anything else."""


class CardSystemRejected(CardSystemError):
    """The system refused the call (4xx) with an error code; nothing changed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclasses.dataclass(frozen=True)
class FamilyLimit:
    """A member's limit on a family card the card system keeps (a migrated family's): the limit per
    frame, what the member used in the current frame (holds included) and what is left."""

    family_id: str  # the identity provider's family id
    uid: str
    usage: int
    limit: int | None  # None: unlimited
    remaining: int | None
    frame: str  # "month"

    def fits(self, amount: int) -> bool:
        return self.remaining is None or amount <= self.remaining


@dataclasses.dataclass(frozen=True)
class Card:
    """A card bound to a user's account; `payer_uid` is the user whose money it is. A family card
    the system keeps carries the member's `family` limit."""

    id: str
    uid: str
    payer_uid: str
    number: str  # masked, e.g. "555555******4477"
    family: FamilyLimit | None = None


@dataclasses.dataclass(frozen=True)
class CardRefund:
    id: str
    key: str
    amount: int  # minor units


@dataclasses.dataclass(frozen=True)
class CardPayment:
    """A payment on a card: HELD, then CLEARED (for at most the held amount) or CANCELLED."""

    id: str
    key: str  # the idempotency key it was made with
    card_id: str
    uid: str  # who spends (the family member)
    amount: int  # held, minor units
    currency: str
    status: str  # HELD, CLEARED, CANCELLED
    cleared_amount: int
    refunds: tuple[CardRefund, ...]

    @property
    def refunded_amount(self) -> int:
        return sum(r.amount for r in self.refunds)


class CardSystem(Protocol):
    def list_payment_methods(self, *, uid: str) -> list[Card]:
        """The cards bound to `uid`'s account (some may be paid by another user: see `payer_uid`)."""
        ...

    def hold(self, *, card_id: str, uid: str, amount: int, currency: str, key: str) -> CardPayment:
        """Hold `amount` on the card for `uid`'s spending."""
        ...

    def clear(self, *, payment_id: str, amount: int, key: str) -> CardPayment:
        """Take `amount` (at most the held amount) of a held payment; the rest is released."""
        ...

    def cancel(self, *, payment_id: str, key: str) -> CardPayment:
        """Release a held payment."""
        ...

    def refund(self, *, payment_id: str, amount: int, key: str) -> CardPayment:
        """Give back `amount` of a cleared payment; the payment with its refunds."""
        ...

    def get_payment(self, *, payment_id: str) -> CardPayment:
        """The payment as the system has it now."""
        ...

    def find_payment(self, *, key: str) -> CardPayment | None:
        """The payment made with the idempotency key `key`, if the system made one."""
        ...

    def put_family(
        self, *, family_id: str, card_id: str, owner_uid: str, members: list[tuple[str, int | None]]
    ) -> None:
        """Hand over a migrated family's card with each member's monthly limit (None: unlimited);
        the same call again changes nothing."""
        ...

    def family_limit(self, *, family_id: str, uid: str) -> FamilyLimit:
        """The member's limit, usage and what is left this frame (CardSystemRejected
        `family_not_found` / `member_not_found`)."""
        ...
