"""The card payment provider port: what billy needs from YooKassa, in plain dataclasses, and its errors.

Amounts are integers in minor units (kopecks), times are aware UTC datetimes; the adapter turns
YooKassa's decimal strings and ISO timestamps into these once.

Errors say what is known about the call's effect, because that decides what is safe next:
`ProviderUnavailable` and `ProviderRejected` mean the call did not take effect;
`ProviderOutcomeUnknown` means it may have (a timeout after sending, a dropped connection, a 5xx):
repeat it with the same idempotence key, or read the provider's state to find out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ShopCredentials:
    api_url: str  # the API root, e.g. "https://api.yookassa.ru/v3"
    shop_id: str
    secret_key: str


@dataclass(frozen=True)
class PaymentRequest:
    amount: int  # minor units
    currency: str
    description: str
    return_url: str  # where the hosted payment page sends the payer back
    metadata: dict[str, str]  # billy puts {"billy_payment_id": "<uuid>"} here to find the payment again
    capture: bool = True  # False: the payment waits for an explicit capture after the payer pays
    # Ask the provider to keep the card the payer pays with, for later payments without the payer.
    save_payment_method: bool = False
    # Pay with a saved method: no payment page, the provider charges it at once (renewals).
    payment_method_id: str | None = None


@dataclass(frozen=True)
class ProviderPayment:
    id: str
    status: str  # "pending" | "waiting_for_capture" | "succeeded" | "canceled"
    amount: int
    currency: str
    metadata: dict[str, str]
    paid: bool
    confirmation_url: str | None  # the hosted payment page, while the payer has not paid
    cancellation_party: str | None
    cancellation_reason: str | None
    created_at: dt.datetime
    # The method paid with, once the payer paid: its id, whether the provider saved it for later
    # payments, and the card's last four digits.
    payment_method_id: str | None = None
    payment_method_saved: bool = False
    card_last4: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    payment_id: str
    amount: int  # minor units
    currency: str
    description: str


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    payment_id: str
    status: str  # "pending" | "succeeded" | "canceled"
    amount: int
    currency: str
    cancellation_party: str | None
    cancellation_reason: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class Notification:
    """A webhook body, parsed: its content is a hint to re-read `object_id`, never trusted as such."""

    event: str  # "payment.succeeded" | "payment.canceled" | "payment.waiting_for_capture" | "refund.succeeded"
    object_id: str
    payment_id: str = ""  # a refund's payment, as the body says ("" when it says none)


class PaymentProviderError(Exception):
    """Base of every payment provider adapter error."""


class ProviderUnavailable(PaymentProviderError):
    """The provider was not reached, refused the connection or asked to slow down (429); no effect."""


class ProviderOutcomeUnknown(PaymentProviderError):
    """The call may or may not have taken effect (timeout after sending, 5xx, connection reset)."""


class ProviderRejected(PaymentProviderError):
    """The provider refused the request (4xx) with its error code; nothing changed."""

    def __init__(self, code: str, description: str, parameter: str | None = None) -> None:
        super().__init__(f"{code}: {description}" + (f" ({parameter})" if parameter else ""))
        self.code = code
        self.description = description
        self.parameter = parameter


class ProviderNotFound(ProviderRejected):
    """No such object (404) for this shop."""


class PaymentProvider(Protocol):
    def create_payment(self, request: PaymentRequest, *, idempotence_key: str) -> ProviderPayment:
        """Create a payment; the same key with the same request returns the same payment."""
        ...

    def get_payment(self, payment_id: str) -> ProviderPayment:
        """The payment's current state; ProviderNotFound if the shop has no such payment."""
        ...

    def find_payment(
        self, *, metadata_key: str, metadata_value: str, created_since: dt.datetime
    ) -> ProviderPayment | None:
        """The newest payment created at or after `created_since` whose metadata[key] == value, or None."""
        ...

    def create_refund(self, request: RefundRequest, *, idempotence_key: str) -> ProviderRefund:
        """Refund (part of) a succeeded payment; the same key with the same request returns the same refund."""
        ...

    def get_refund(self, refund_id: str) -> ProviderRefund:
        """The refund's current state; ProviderNotFound if the shop has no such refund."""
        ...

    def find_refunds(self, *, payment_id: str) -> list[ProviderRefund]:
        """Every refund of a payment, newest first."""
        ...

    def parse_notification(self, body: bytes) -> Notification:
        """A webhook body as the provider sends it: what happened to which object (a hint to re-read
        the object, never trusted as such). Raises ValueError saying what is wrong for anything else."""
        ...
