"""Balance's wire spellings, both ways: money as decimal strings, times as `dateTime.iso8601` in UTC,
CamelCase structs, lower-case choice values, and the fault string.

The adapter, the notification parser and the emulator all speak through here, so a spelling lives
in one place. Decoders raise `WireError` (a ValueError) for anything that is not as the protocol says.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import xmlrpc.client
from html import escape
from typing import Any, TypeVar

from billy.core.money import format_amount, parse_amount

from . import port

_Choice = TypeVar("_Choice", bound=enum.StrEnum)
_FAULT_CODE = re.compile(r"<code>(.*?)</code>", re.S)
_FAULT_MSG = re.compile(r"<msg>(.*?)</msg>", re.S)


class WireError(ValueError):
    """A value that is not spelled as the protocol says."""


# -- scalars ----------------------------------------------------------------------------------------
def money(minor: int) -> str:
    return format_amount(minor)


def parse_money(value: Any, field: str = "amount", *, signed: bool = False) -> int:
    negative = signed and isinstance(value, str) and value.startswith("-")
    try:
        minor = parse_amount(value[1:] if negative else value)
    except ValueError as e:
        raise WireError(f"{field}: {e}") from e
    return -minor if negative else minor


def moment(value: dt.datetime) -> dt.datetime:
    """An aware datetime as XML-RPC carries it: naive, in UTC (the protocol's agreement)."""
    if value.tzinfo is None:
        raise WireError("a point in time must be timezone-aware")
    return value.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)


def day(value: dt.date) -> dt.datetime:
    return dt.datetime(value.year, value.month, value.day)  # noqa: DTZ001  (UTC by the protocol)


def parse_moment(value: Any, field: str = "time") -> dt.datetime:
    if isinstance(value, xmlrpc.client.DateTime):
        value = dt.datetime.strptime(value.value, "%Y%m%dT%H:%M:%S")  # noqa: DTZ007  (UTC by the protocol)
    if not isinstance(value, dt.datetime):
        raise WireError(f"{field}: a dateTime.iso8601 is expected, got {value!r}")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def parse_day(value: Any, field: str = "date") -> dt.date:
    return parse_moment(value, field).date()


def choice(value: enum.StrEnum) -> str:
    return value.value.lower()


def parse_choice(kind: type[_Choice], value: Any, field: str) -> _Choice:
    try:
        return kind(str(value).upper())
    except ValueError as e:
        raise WireError(f"{field}: {value!r} is not one of {[choice(k) for k in kind]}") from e


def optional(params: dict[str, Any], **values: Any) -> dict[str, Any]:
    """`params` with the given values that are not None (XML-RPC has no nil)."""
    return {**params, **{k: v for k, v in values.items() if v is not None}}


# -- faults -----------------------------------------------------------------------------------------
def fault_string(code: str, message: str) -> str:
    return f"<error><msg>{escape(message)}</msg><wo-rollback>0</wo-rollback><code>{escape(code)}</code></error>"


def parse_fault(fault_string: str) -> tuple[str, str]:
    code = _FAULT_CODE.search(fault_string)
    msg = _FAULT_MSG.search(fault_string)
    return (code.group(1).strip() if code else "UNKNOWN", msg.group(1).strip() if msg else fault_string)


# -- structs ----------------------------------------------------------------------------------------
def person_params(client_id: int, data: port.PersonData, person_id: int | None) -> dict[str, Any]:
    return optional(
        {
            "ClientID": client_id,
            "Type": choice(data.type),
            "Name": data.name,
            "INN": data.inn,
            "Email": data.email,
            "Phone": data.phone,
            "LegalAddress": data.legal_address,
        },
        PersonID=person_id,
        LongName=data.long_name,
        KPP=data.kpp,
        PostAddress=data.post_address,
        BIK=data.bik,
        BankAccount=data.bank_account,
    )


def parse_person(item: dict[str, Any]) -> port.Person:
    return port.Person(
        person_id=int(item["PersonID"]),
        client_id=int(item["ClientID"]),
        data=port.PersonData(
            type=parse_choice(port.PersonType, item["Type"], "Type"),
            name=item["Name"],
            inn=item["INN"],
            email=item["Email"],
            phone=item["Phone"],
            legal_address=item.get("LegalAddress", ""),
            long_name=item.get("LongName"),
            kpp=item.get("KPP"),
            post_address=item.get("PostAddress"),
            bik=item.get("BIK"),
            bank_account=item.get("BankAccount"),
        ),
    )


def offer_params(offer: port.OfferData) -> dict[str, Any]:
    return optional(
        {
            "ClientID": offer.client_id,
            "PersonID": offer.person_id,
            "Currency": offer.currency,
            "PaymentType": choice(offer.payment_type),
            "StartDate": day(offer.start_date),
        },
        CreditLimit=None if offer.credit_limit is None else money(offer.credit_limit),
        PaymentTermDays=offer.payment_term_days,
        ExternalRef=offer.external_ref,
        ServiceID=offer.service_id,
    )


def contract_change_params(change: port.ContractChange) -> dict[str, Any]:
    return optional(
        {"ContractID": change.contract_id},
        CreditLimit=None if change.credit_limit is None else money(change.credit_limit),
        PaymentTermDays=change.payment_term_days,
        FinishDate=None if change.finish_date is None else day(change.finish_date),
    )


def parse_contract(item: dict[str, Any]) -> port.Contract:
    finish = item.get("FinishDate")
    return port.Contract(
        contract_id=int(item["ContractID"]),
        external_id=str(item["ExternalID"]),
        person_id=int(item["PersonID"]),
        payment_type=parse_choice(port.PaymentType, item["PaymentType"], "PaymentType"),
        currency=item["Currency"],
        active=bool(item["Active"]),
        suspended=bool(item["Suspended"]),
        credit_limit=parse_money(item["CreditLimit"], "CreditLimit"),
        start_date=parse_day(item["StartDate"], "StartDate"),
        finish_date=None if finish in (None, "") else parse_day(finish, "FinishDate"),
        external_ref=item.get("ExternalRef") or None,
    )


def parse_personal_account(item: dict[str, Any]) -> port.PersonalAccount:
    return port.PersonalAccount(
        personal_account_id=int(item["PersonalAccountID"]),
        external_id=str(item["ExternalID"]),
        wallet_order_id=int(item["WalletOrderID"]),
        currency=item["Currency"],
        **{
            field: parse_money(item[key], key)
            for field, key in (
                ("paid_total", "PaidTotal"),
                ("credit_total", "CreditTotal"),
                ("consumed_total", "ConsumedTotal"),
                ("credit_limit", "CreditLimit"),
                ("credit_used", "CreditUsed"),
            )
        },
    )


def request_params(request: port.Request) -> dict[str, Any]:
    items = [{"OrderID": i.order_id, "Amount": money(i.amount)} for i in request.items]
    return optional({"ClientID": request.client_id, "Items": items}, ExternalRef=request.external_ref)


def invoice_params(data: port.InvoiceData) -> dict[str, Any]:
    return {
        "RequestID": data.request_id,
        "PersonID": data.person_id,
        "ContractID": data.contract_id,
        "PaymentMethod": choice(data.payment_method),
    }


def parse_issued_invoice(item: dict[str, Any]) -> port.IssuedInvoice:
    return port.IssuedInvoice(
        invoice_id=int(item["InvoiceID"]),
        external_id=str(item["ExternalID"]),
        amount=parse_money(item["Amount"], "Amount"),
        currency=item["Currency"],
        url=item["URL"],
    )


def parse_invoice(item: dict[str, Any]) -> port.Invoice:
    return port.Invoice(
        invoice_id=int(item["InvoiceID"]),
        external_id=str(item["ExternalID"]),
        issued_at=parse_moment(item["Date"], "Date"),
        amount=parse_money(item["Amount"], "Amount"),
        paid_amount=parse_money(item["PaidAmount"], "PaidAmount"),
        currency=item["Currency"],
        kind=parse_choice(port.InvoiceKind, item["Kind"], "Kind"),
        status=parse_choice(port.InvoiceStatus, item["Status"], "Status"),
        contract_id=int(item["ContractID"]) if item.get("ContractID") else None,
        url=item.get("URL") or None,
    )


def deposit_params(deposit: port.CreditDeposit) -> dict[str, Any]:
    return optional(
        {
            "ContractID": deposit.contract_id,
            "OrderID": deposit.order_id,
            "Amount": money(deposit.amount),
            "Currency": deposit.currency,
        },
        ExternalRef=deposit.external_ref,
    )


def parse_credit_limits(item: dict[str, Any]) -> port.CreditLimits:
    return port.CreditLimits(
        currency=item["Currency"],
        limits=tuple(
            port.CreditLimit(
                contract_id=int(limit["ContractID"]),
                limit=parse_money(limit["Limit"], "Limit"),
                spent=parse_money(limit["LimitSpent"], "LimitSpent"),
            )
            for limit in item["Limits"]
        ),
    )


def consumption_params(report: port.ConsumptionReport) -> dict[str, Any]:
    return {"OrderID": report.order_id, "ConsumedTotal": money(report.consumed_total), "AsOf": moment(report.as_of)}


def parse_order_info(item: dict[str, Any]) -> port.OrderInfo:
    return port.OrderInfo(
        order_id=int(item["OrderID"]),
        currency=item["Currency"],
        paid_total=parse_money(item["PaidTotal"], "PaidTotal"),
        credit_total=parse_money(item["CreditTotal"], "CreditTotal"),
        consumed_total=parse_money(item["ConsumedTotal"], "ConsumedTotal"),
        rest=parse_money(item["Rest"], "Rest", signed=True),
    )


def parse_act(item: dict[str, Any]) -> port.Act:
    return port.Act(
        act_id=int(item["ActID"]),
        external_id=str(item["ExternalID"]),
        act_date=parse_day(item["Date"], "Date"),
        amount=parse_money(item["Amount"], "Amount"),
        vat=parse_money(item["VAT"], "VAT"),
        currency=item["Currency"],
        contract_id=int(item["ContractID"]),
        order_id=int(item["OrderID"]),
    )


def period_params(params: dict[str, Any], date_from: dt.date, date_to: dt.date) -> dict[str, Any]:
    def wire(value: dt.date) -> dt.datetime:
        return moment(value) if isinstance(value, dt.datetime) else day(value)

    return {**params, "DateFrom": wire(date_from), "DateTo": wire(date_to)}


def notification_params(notification: port.Notification) -> dict[str, Any]:
    return {
        "ServiceID": notification.service_id,
        "OrderID": notification.order_id,
        "Seq": notification.seq,
        "Currency": notification.currency,
        "PaidTotal": money(notification.paid_total),
        "CreditTotal": money(notification.credit_total),
        "ConsumedTotal": money(notification.consumed_total),
        "At": moment(notification.at),
    }


def parse_notification(item: dict[str, Any]) -> port.Notification:
    return port.Notification(
        service_id=int(item["ServiceID"]),
        order_id=int(item["OrderID"]),
        seq=int(item["Seq"]),
        currency=item["Currency"],
        paid_total=parse_money(item["PaidTotal"], "PaidTotal"),
        credit_total=parse_money(item["CreditTotal"], "CreditTotal"),
        consumed_total=parse_money(item["ConsumedTotal"], "ConsumedTotal"),
        at=parse_moment(item["At"], "At"),
    )
