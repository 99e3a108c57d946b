"""Money in the emulated Balance: what arrives on orders, credit, consumption, and the month close.

Every function here runs under the state's lock and changes the state the way Balance would;
the XML-RPC methods, the invoice page and the control API all come here, so a payment made on the
page and one made by a control call are the same payment.

- A prepay invoice's money lands on its contract's wallet order (Balance books what arrives on the
  personal account, not which invoice was "paid"); a bank transfer quoting the personal account
  does the same without an invoice. Either raises the order's PaidTotal and notifies billy.
- A deposit from credit raises the order's CreditTotal and the contract's CreditUsed, and notifies.
- Repaying a credit invoice lowers CreditUsed (the limit is available again) and touches no order.
- Consumption is cumulative per order, with the moment it is as of; a month close forms each
  order's act from what was consumed up to the month's end and not acted yet, and each postpay
  contract's credit invoice from the deposits made up to then and not invoiced yet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from billy.core.money import format_amount, prorate

from . import notifier
from .state import BOOKS_ZONE, BalanceState, Fault, month_bounds, month_of

VAT_PERCENT = 20  # included in an act's amount


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# -- time-driven changes ------------------------------------------------------------------------------
def open_due_accounts(state: BalanceState) -> None:
    """Open the personal account and wallet order of each contract whose opening time has come."""
    now = state.now()
    for contract in state.table("contracts").values():
        if contract["PersonalAccountID"] is None and parse_time(contract["account_opens_at"]) <= now:
            account_id, order_id = state.new_id(), state.new_id()
            contract["PersonalAccountID"] = account_id
            state.table("accounts")[account_id] = {
                "PersonalAccountID": account_id,
                "ExternalID": f"ЛСТ-{account_id}-1",
                "ContractID": contract["ContractID"],
                "ClientID": contract["ClientID"],
                "WalletOrderID": order_id,
                "Currency": contract["Currency"],
            }
            state.table("orders")[order_id] = {
                "OrderID": order_id,
                "ClientID": contract["ClientID"],
                "ContractID": contract["ContractID"],
                "ServiceID": contract["ServiceID"],
                "Currency": contract["Currency"],
                "paid": 0,
                "credit": 0,
                "consumed": 0,
                "seq": 0,
                "acted": 0,
                "consumption": [],  # [as_of (ISO 8601), cumulative total], in the order reported
            }
            state.save()


def close_due_months(state: BalanceState) -> list[dict[str, Any]]:
    """Close every month the emulator's clock has left since it last looked (automatic month close)."""
    current = month_of(state.now())
    closed = []
    while state.clock_month < current:
        closed.append(close_month(state, state.clock_month))
        _, end = month_bounds(state.clock_month)
        state.clock_month = month_of(end)
        state.save()
    return closed


def close_month(state: BalanceState, month: str) -> dict[str, Any]:
    """Form the month's acts and credit invoices; a month already closed forms nothing again."""
    _, end = month_bounds(month)
    formed: dict[str, Any] = {"month": month, "acts": [], "invoices": []}
    if month in state.closed_months:
        return {**formed, "already_closed": True}
    act_date = (end.astimezone(BOOKS_ZONE) - dt.timedelta(days=1)).date()
    for order in state.table("orders").values():
        total = consumed_as_of(order, end)
        amount = total - order["acted"]
        if amount <= 0:
            continue  # nothing consumed (or consumption lowered behind billy's back): no act
        order["acted"] = total
        act_id = state.new_id()
        act = {
            "ActID": act_id,
            "ExternalID": f"Y-{act_id}",
            "ClientID": order["ClientID"],
            "ContractID": order["ContractID"],
            "OrderID": order["OrderID"],
            "Date": act_date.isoformat(),
            "Amount": amount,
            "VAT": prorate(amount, VAT_PERCENT, 100 + VAT_PERCENT),
            "Currency": order["Currency"],
            "Month": month,
        }
        state.table("acts")[act_id] = act
        formed["acts"].append(act_view(act))
    for contract in state.table("contracts").values():
        if contract["PaymentType"] != "postpay":
            continue
        deposits = [
            d
            for d in state.table("deposits").values()
            if d["ContractID"] == contract["ContractID"] and not d["Invoiced"] and parse_time(d["at"]) < end
        ]
        if not deposits:
            continue
        for deposit in deposits:
            deposit["Invoiced"] = True
        invoice = new_invoice(
            state,
            contract,
            kind="credit",
            amount=sum(d["Amount"] for d in deposits),
            issued_at=end,
            request_id=None,
            payment_method="bank",
        )
        formed["invoices"].append(invoice_view(invoice))
    state.closed_months.append(month)
    state.save()
    return formed


# -- money in ----------------------------------------------------------------------------------------
def new_invoice(
    state: BalanceState,
    contract: dict[str, Any],
    *,
    kind: str,
    amount: int,
    issued_at: dt.datetime,
    request_id: int | None,
    payment_method: str,
) -> dict[str, Any]:
    invoice_id = state.new_id()
    account = state.table("accounts")[contract["PersonalAccountID"]]
    invoice = {
        "InvoiceID": invoice_id,
        "ExternalID": f"Б-{invoice_id}-1",
        "ClientID": contract["ClientID"],
        "ContractID": contract["ContractID"],
        "PersonID": contract["PersonID"],
        "RequestID": request_id,
        "OrderID": account["WalletOrderID"],
        "Kind": kind,
        "PaymentMethod": payment_method,
        "Amount": amount,
        "PaidAmount": 0,
        "Currency": contract["Currency"],
        "Date": issued_at.isoformat(),
    }
    state.table("invoices")[invoice_id] = invoice
    state.save()
    return invoice


def pay_invoice(state: BalanceState, invoice: dict[str, Any], amount: int) -> None:
    """A payment of `amount` (in part or the rest) against the invoice; Fault when it does not fit."""
    left = invoice["Amount"] - invoice["PaidAmount"]
    if amount <= 0 or amount > left:
        raise Fault("INVALID_PARAM", f"the amount must be above 0 and at most what is left, {format_amount(left)}")
    invoice["PaidAmount"] += amount
    if invoice["Kind"] == "credit":
        contract = state.table("contracts")[invoice["ContractID"]]
        contract["CreditUsed"] = max(0, contract["CreditUsed"] - amount)  # the limit is available again
    else:
        order = state.table("orders")[invoice["OrderID"]]
        order["paid"] += amount
        notifier.notify(state, order)
    state.save()


def transfer(state: BalanceState, account: dict[str, Any], amount: int) -> None:
    """A bank transfer quoting the personal account, with no invoice."""
    if amount <= 0:
        raise Fault("INVALID_PARAM", "the amount must be above 0")
    order = state.table("orders")[account["WalletOrderID"]]
    order["paid"] += amount
    notifier.notify(state, order)
    state.save()


def deposit_from_credit(
    state: BalanceState, contract: dict[str, Any], order: dict[str, Any], amount: int, external_ref: str | None
) -> dict[str, Any]:
    available = contract["CreditLimit"] - contract["CreditUsed"]
    if amount > available:
        raise Fault("CREDIT_LIMIT_EXCEEDED", f"only {format_amount(max(0, available))} of the credit limit is left")
    invoice_id = state.new_id()  # Balance's "fictive" invoice behind a deposit
    state.table("deposits")[invoice_id] = {
        "InvoiceID": invoice_id,
        "ContractID": contract["ContractID"],
        "OrderID": order["OrderID"],
        "Amount": amount,
        "Currency": order["Currency"],
        "ExternalRef": external_ref,
        "at": state.now().isoformat(),
        "Invoiced": False,
    }
    contract["CreditUsed"] += amount
    order["credit"] += amount
    notifier.notify(state, order)
    state.save()
    return {"InvoiceID": invoice_id, "CreditAvailable": contract["CreditLimit"] - contract["CreditUsed"]}


# -- consumption -------------------------------------------------------------------------------------
def set_consumption(state: BalanceState, order: dict[str, Any], total: int, as_of: dt.datetime) -> None:
    order["consumed"] = total
    order["consumption"].append([as_of.isoformat(), total])
    state.save()


def consumed_as_of(order: dict[str, Any], end: dt.datetime) -> int:
    """The order's cumulative consumption as last reported for a moment before `end`."""
    best: tuple[dt.datetime, int] | None = None
    for as_of, total in order["consumption"]:
        moment = parse_time(as_of)
        if moment < end and (best is None or moment >= best[0]):
            best = (moment, total)
    return best[1] if best else 0


# -- views: what reads answer (money as decimal strings) -------------------------------------------------
def contract_view(contract: dict[str, Any], today: dt.date) -> dict[str, Any]:
    finish = contract["FinishDate"]
    return {
        "ContractID": contract["ContractID"],
        "ExternalID": contract["ExternalID"],
        "ClientID": contract["ClientID"],
        "PersonID": contract["PersonID"],
        "PaymentType": contract["PaymentType"],
        "Currency": contract["Currency"],
        "Active": finish is None or dt.date.fromisoformat(finish) > today,
        "Suspended": contract["Suspended"],
        "CreditLimit": format_amount(contract["CreditLimit"]),
        "CreditUsed": format_amount(contract["CreditUsed"]),
        "PaymentTermDays": contract["PaymentTermDays"],
        "StartDate": contract["StartDate"],
        "FinishDate": finish or "",
        "ExternalRef": contract["ExternalRef"] or "",
        "ServiceID": contract["ServiceID"],
        "PersonalAccountID": contract["PersonalAccountID"],
    }


def order_view(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "OrderID": order["OrderID"],
        "ClientID": order["ClientID"],
        "ContractID": order["ContractID"],
        "ServiceID": order["ServiceID"],
        "Currency": order["Currency"],
        "PaidTotal": format_amount(order["paid"]),
        "CreditTotal": format_amount(order["credit"]),
        "ConsumedTotal": format_amount(order["consumed"]),
        "Rest": format_amount(order["paid"] + order["credit"] - order["consumed"]),
        "Seq": order["seq"],
    }


def invoice_status(invoice: dict[str, Any]) -> str:
    if invoice["PaidAmount"] >= invoice["Amount"]:
        return "paid"
    return "partially_paid" if invoice["PaidAmount"] else "unpaid"


def invoice_view(invoice: dict[str, Any]) -> dict[str, Any]:
    return {
        "InvoiceID": invoice["InvoiceID"],
        "ExternalID": invoice["ExternalID"],
        "ClientID": invoice["ClientID"],
        "ContractID": invoice["ContractID"],
        "RequestID": invoice["RequestID"] or 0,
        "Date": invoice["Date"],
        "Amount": format_amount(invoice["Amount"]),
        "PaidAmount": format_amount(invoice["PaidAmount"]),
        "Currency": invoice["Currency"],
        "Kind": invoice["Kind"],
        "Status": invoice_status(invoice),
        "PaymentMethod": invoice["PaymentMethod"],
    }


def act_view(act: dict[str, Any]) -> dict[str, Any]:
    return {
        **act,
        "Amount": format_amount(act["Amount"]),
        "VAT": format_amount(act["VAT"]),
    }
