"""The Balance port: what billy needs from Balance, in plain dataclasses, and its errors.

Money is integer kopecks here (the wire's decimal strings stay in the adapter); points in time are
aware UTC datetimes, calendar days are dates. Periods are half-open: `[date_from, date_to)`.

Errors say what is known about the call's effect, because that decides what is safe next:
`BalanceUnavailable` and `BalanceFault` mean the call did not take effect; `BalanceOutcomeUnknown`
means it may have (a timeout after sending, a dropped connection, a 5xx other than 503, Balance's
own `INTERNAL_ERROR`). After an unknown outcome a create is never repeated blindly: the caller
reads Balance back and matches on the business fields (see `billy.integrations.balance`).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Protocol


class PersonType(enum.StrEnum):
    LEGAL = "LEGAL"
    INDIVIDUAL = "INDIVIDUAL"


class PaymentType(enum.StrEnum):
    PREPAY = "PREPAY"
    POSTPAY = "POSTPAY"


class PaymentMethod(enum.StrEnum):
    BANK = "BANK"
    CARD = "CARD"


class InvoiceKind(enum.StrEnum):
    PREPAY = "PREPAY"
    CREDIT = "CREDIT"


class InvoiceStatus(enum.StrEnum):
    UNPAID = "UNPAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"


class BalanceCode(enum.StrEnum):
    """Balance's fault codes billy knows (a fault may carry another: `BalanceFault.code` is a str)."""

    INVALID_PARAM = "INVALID_PARAM"
    CLIENT_NOT_FOUND = "CLIENT_NOT_FOUND"
    PERSON_NOT_FOUND = "PERSON_NOT_FOUND"
    CONTRACT_NOT_FOUND = "CONTRACT_NOT_FOUND"
    CONTRACT_SUSPENDED = "CONTRACT_SUSPENDED"
    CONTRACT_NOT_POSTPAY = "CONTRACT_NOT_POSTPAY"
    PERSONAL_ACCOUNT_NOT_READY = "PERSONAL_ACCOUNT_NOT_READY"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    REQUEST_NOT_FOUND = "REQUEST_NOT_FOUND"
    CREDIT_LIMIT_EXCEEDED = "CREDIT_LIMIT_EXCEEDED"
    TOO_MANY_OPERATIONS = "TOO_MANY_OPERATIONS"
    CONSUMPTION_DECREASE = "CONSUMPTION_DECREASE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    SUCCESS = "SUCCESS"  # a per-item result of UpdateCampaigns that took effect


# -- clients ----------------------------------------------------------------------------------------
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


# -- payers (Balance "persons") ---------------------------------------------------------------------
@dataclass(frozen=True)
class PersonData:
    type: PersonType
    name: str
    inn: str
    email: str
    phone: str
    legal_address: str
    long_name: str | None = None
    kpp: str | None = None
    post_address: str | None = None
    bik: str | None = None
    bank_account: str | None = None


@dataclass(frozen=True)
class Person:
    person_id: int
    client_id: int
    data: PersonData


# -- contracts (accepted offers) and personal accounts ----------------------------------------------
@dataclass(frozen=True)
class OfferData:
    client_id: int
    person_id: int
    currency: str
    payment_type: PaymentType
    start_date: dt.date
    credit_limit: int | None = None  # postpay only
    payment_term_days: int | None = None  # postpay only
    external_ref: str | None = None
    service_id: int | None = None  # the service whose wallet order it opens (its NotifyOrder's ServiceID)


@dataclass(frozen=True)
class CreatedContract:
    contract_id: int
    external_id: str


@dataclass(frozen=True)
class ContractChange:
    contract_id: int
    credit_limit: int | None = None
    payment_term_days: int | None = None
    finish_date: dt.date | None = None


@dataclass(frozen=True)
class Contract:
    contract_id: int
    external_id: str
    person_id: int
    payment_type: PaymentType
    currency: str
    active: bool
    suspended: bool
    credit_limit: int
    start_date: dt.date
    finish_date: dt.date | None
    external_ref: str | None = None


@dataclass(frozen=True)
class PersonalAccount:
    personal_account_id: int
    external_id: str
    wallet_order_id: int
    currency: str
    paid_total: int
    credit_total: int
    consumed_total: int
    credit_limit: int
    credit_used: int


# -- money in: requests, invoices, credit -----------------------------------------------------------
@dataclass(frozen=True)
class RequestItem:
    order_id: int
    amount: int


@dataclass(frozen=True)
class Request:
    client_id: int
    items: tuple[RequestItem, ...]
    external_ref: str | None = None


@dataclass(frozen=True)
class InvoiceData:
    request_id: int
    person_id: int
    contract_id: int
    payment_method: PaymentMethod


@dataclass(frozen=True)
class IssuedInvoice:
    """What CreateInvoice answers: the invoice and the page where it is paid."""

    invoice_id: int
    external_id: str
    amount: int
    currency: str
    url: str


@dataclass(frozen=True)
class Invoice:
    invoice_id: int
    external_id: str
    issued_at: dt.datetime
    amount: int
    paid_amount: int
    currency: str
    kind: InvoiceKind
    status: InvoiceStatus
    contract_id: int | None = None
    url: str | None = None  # the page where it is paid, when Balance says


@dataclass(frozen=True)
class CreditDeposit:
    contract_id: int
    order_id: int
    amount: int
    currency: str
    external_ref: str | None = None


@dataclass(frozen=True)
class CreditDepositResult:
    invoice_id: int
    credit_available: int


@dataclass(frozen=True)
class CreditLimit:
    contract_id: int
    limit: int
    spent: int


@dataclass(frozen=True)
class CreditLimits:
    currency: str
    limits: tuple[CreditLimit, ...]


# -- orders, consumption, acts ----------------------------------------------------------------------
@dataclass(frozen=True)
class OrderInfo:
    order_id: int
    currency: str
    paid_total: int
    credit_total: int
    consumed_total: int
    rest: int  # paid + credit - consumed; negative when consumption ran ahead


@dataclass(frozen=True)
class ConsumptionReport:
    """An order's cumulative consumed total as of a moment (never a delta)."""

    order_id: int
    consumed_total: int
    as_of: dt.datetime


@dataclass(frozen=True)
class ConsumptionResult:
    order_id: int
    code: str  # BalanceCode.SUCCESS, ORDER_NOT_FOUND, CONSUMPTION_DECREASE, ...
    message: str

    @property
    def accepted(self) -> bool:
        return self.code == BalanceCode.SUCCESS


@dataclass(frozen=True)
class Act:
    act_id: int
    external_id: str
    act_date: dt.date  # the last day of the month it covers
    amount: int
    vat: int
    currency: str
    contract_id: int
    order_id: int


@dataclass(frozen=True)
class Notification:
    """Balance's `NotifyOrder`: an order's cumulative totals after money arrived on it."""

    service_id: int
    order_id: int
    seq: int  # rises per order: a lower or equal one carries nothing new
    currency: str
    paid_total: int
    credit_total: int
    consumed_total: int
    at: dt.datetime


# -- errors -----------------------------------------------------------------------------------------
class BalanceError(Exception):
    """Base of every Balance adapter error."""


class BalanceUnavailable(BalanceError):
    """Balance could not be reached or said it is unavailable (503); the call took no effect."""


class BalanceOutcomeUnknown(BalanceError):
    """The call may or may not have taken effect in Balance (timeout after sending, 5xx, reset,
    Balance's INTERNAL_ERROR)."""


class BalanceFault(BalanceError):
    """Balance refused the call with an error code (a `BalanceCode` or another); nothing changed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Balance(Protocol):
    # clients
    def create_client(self, data: ClientData, *, client_id: int | None = None) -> int:
        """Create a client (or update `client_id`); return its Balance id."""
        ...

    def find_clients(self, data: ClientData) -> list[BalanceClient]:
        """Clients whose name, email and phone all equal `data`'s."""
        ...

    def link_client_to_configuration(self, *, client_id: int, integration: str, configuration: str) -> None:
        """Link a client to a partner configuration; idempotent."""
        ...

    # payers and contracts
    def create_person(self, *, client_id: int, data: PersonData, person_id: int | None = None) -> int:
        """Create a payer of the client (or update `person_id`); its id. Not to be repeated blindly."""
        ...

    def get_client_persons(self, *, client_id: int) -> list[Person]: ...

    def create_offer(self, offer: OfferData) -> CreatedContract:
        """Accept an offer: a contract. Balance then opens its personal account and wallet order."""
        ...

    def update_contract(self, change: ContractChange) -> None: ...

    def get_client_contracts(self, *, client_id: int) -> list[Contract]: ...

    def get_personal_account(self, *, contract_id: int) -> PersonalAccount:
        """The contract's personal account; BalanceFault PERSONAL_ACCOUNT_NOT_READY while it opens."""
        ...

    # money in
    def create_request(self, request: Request) -> int:
        """A payment request for orders; its id."""
        ...

    def create_invoice(self, data: InvoiceData) -> IssuedInvoice: ...

    def get_client_invoices(
        self, *, client_id: int, date_from: dt.datetime, date_to: dt.datetime, contract_id: int | None = None
    ) -> list[Invoice]: ...

    def deposit_from_credit(self, deposit: CreditDeposit) -> CreditDepositResult:
        """Move money from the contract's credit limit onto the order."""
        ...

    def get_client_credit_limits(self, *, client_id: int) -> CreditLimits: ...

    # consumption and acts
    def update_campaigns(self, reports: list[ConsumptionReport]) -> list[ConsumptionResult]:
        """Report cumulative consumption; one result per report (safe to repeat)."""
        ...

    def get_orders_info(self, order_ids: list[int]) -> list[OrderInfo]: ...

    def get_client_acts(
        self, *, client_id: int, date_from: dt.date, date_to: dt.date, contract_id: int | None = None
    ) -> list[Act]: ...
