"""The emulated methods of money in (requests, invoices, credit), consumption and acts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from billy.core.money import format_amount
from billy.integrations.balance import wire

from . import books, checks
from .state import BalanceState, Fault


# -- money in ------------------------------------------------------------------------------------------
def create_request(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    params = checks.struct(params)
    client_id = checks.ident(params, "ClientID")
    items = params.get("Items")
    if not isinstance(items, list) or not items:
        raise checks.invalid("Items")
    parsed = []
    for given in items:
        item = checks.struct(given, "Items")
        order_id = checks.ident(item, "OrderID")
        order = state.table("orders").get(order_id)
        if order is None or order["ClientID"] != client_id:
            raise Fault("ORDER_NOT_FOUND", f"Order with ID {order_id} not found in DB for this client")
        parsed.append({"OrderID": order_id, "Amount": checks.money(item, "Amount", positive=True)})
    external_ref = checks.text(params, "ExternalRef", required=False)
    request_id = state.new_id()
    state.table("requests")[request_id] = {
        "RequestID": request_id,
        "ClientID": client_id,
        "Items": parsed,
        "ExternalRef": external_ref,
    }
    state.save()
    return checks.ok({"RequestID": request_id})


def create_invoice(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    params = checks.struct(params)
    request = checks.found(state, "requests", checks.ident(params, "RequestID"), "REQUEST_NOT_FOUND", "Request")
    contract = checks.found(state, "contracts", checks.ident(params, "ContractID"), "CONTRACT_NOT_FOUND", "Contract")
    person_id = checks.ident(params, "PersonID")
    method = checks.choice(params, "PaymentMethod", ("bank", "card"))
    if contract["ClientID"] != request["ClientID"] or contract["PersonID"] != person_id:
        raise checks.invalid("ContractID", "the contract is not the request's client's with this payer")
    if contract["Suspended"]:
        raise Fault("CONTRACT_SUSPENDED", f"Contract {contract['ContractID']} is suspended")
    if contract["PersonalAccountID"] is None:
        raise Fault("PERSONAL_ACCOUNT_NOT_READY", "The personal account is being opened; retry later")
    amount = sum(item["Amount"] for item in request["Items"])
    invoice = books.new_invoice(
        state,
        contract,
        kind="prepay",
        amount=amount,
        issued_at=state.now(),
        request_id=request["RequestID"],
        payment_method=method,
    )
    return checks.ok(
        {
            "InvoiceID": invoice["InvoiceID"],
            "ExternalID": invoice["ExternalID"],
            "Amount": format_amount(amount),
            "Currency": invoice["Currency"],
            "URL": invoice_url(state, invoice["InvoiceID"]),
        }
    )


def invoice_url(state: BalanceState, invoice_id: int) -> str:
    return f"{state.base_url}/invoices/{invoice_id}"


def _period(params: dict[str, Any]) -> tuple[int, int | None, dt.datetime, dt.datetime]:
    return (
        checks.ident(params, "ClientID"),
        checks.ident(params, "ContractID", required=False),
        checks.moment(params, "DateFrom"),
        checks.moment(params, "DateTo"),
    )


def get_client_invoices(state: BalanceState, params: dict[str, Any]) -> list:
    client_id, contract_id, date_from, date_to = _period(checks.struct(params))
    checks.client(state, client_id)
    invoices = [
        books.invoice_view(i)
        for i in state.table("invoices").values()
        if i["ClientID"] == client_id
        and contract_id in (None, i["ContractID"])
        and date_from <= books.parse_time(i["Date"]) < date_to
    ]
    return checks.ok(
        [{**i, "Date": books.parse_time(i["Date"]), "URL": invoice_url(state, i["InvoiceID"])} for i in invoices]
    )


def deposit_from_credit(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    params = checks.struct(params)
    contract = checks.found(state, "contracts", checks.ident(params, "ContractID"), "CONTRACT_NOT_FOUND", "Contract")
    order = checks.found(state, "orders", checks.ident(params, "OrderID"), "ORDER_NOT_FOUND", "Order")
    amount = checks.money(params, "Amount", positive=True)
    if params.get("Currency") != contract["Currency"]:
        raise checks.invalid("Currency", f"the contract's is {contract['Currency']}")
    if order["ContractID"] != contract["ContractID"]:
        raise Fault("ORDER_NOT_FOUND", f"Order {order['OrderID']} is not on contract {contract['ContractID']}")
    if contract["PaymentType"] != "postpay":
        raise Fault("CONTRACT_NOT_POSTPAY", f"Contract {contract['ContractID']} has no credit")
    if contract["Suspended"]:
        raise Fault("CONTRACT_SUSPENDED", f"Contract {contract['ContractID']} is suspended")
    result = books.deposit_from_credit(
        state, contract, order, amount, checks.text(params, "ExternalRef", required=False)
    )
    return checks.ok({"InvoiceID": result["InvoiceID"], "CreditAvailable": format_amount(result["CreditAvailable"])})


def get_client_credit_limits(state: BalanceState, params: dict[str, Any]) -> list:
    client_id = checks.client(state, checks.struct(params).get("ClientID"))
    contracts = [
        c for c in state.table("contracts").values() if c["ClientID"] == client_id and c["PaymentType"] == "postpay"
    ]
    return checks.ok(
        {
            "Currency": contracts[0]["Currency"] if contracts else "RUB",
            "Limits": [
                {
                    "ContractID": c["ContractID"],
                    "Limit": format_amount(c["CreditLimit"]),
                    "LimitSpent": format_amount(c["CreditUsed"]),
                }
                for c in contracts
            ],
        }
    )


# -- consumption and acts ------------------------------------------------------------------------------
def update_campaigns(state: BalanceState, operator_uid: int, reports: list) -> list:
    if not isinstance(reports, list):
        raise checks.invalid("params", "an array of {OrderID, ConsumedTotal, AsOf} is expected")
    results = []
    for given in reports:
        report = checks.struct(given, "params")
        order_id = checks.ident(report, "OrderID")
        total = checks.money(report, "ConsumedTotal")
        as_of = checks.moment(report, "AsOf")
        order = state.table("orders").get(order_id)
        if order is None:
            results.append({"OrderID": order_id, "Code": "ORDER_NOT_FOUND", "Msg": f"Order {order_id} not found"})
        elif total < order["consumed"]:
            message = f"ConsumedTotal {format_amount(total)} is below {format_amount(order['consumed'])}"
            results.append({"OrderID": order_id, "Code": "CONSUMPTION_DECREASE", "Msg": message})
        else:
            if total > order["consumed"]:
                books.set_consumption(state, order, total, as_of)
            results.append({"OrderID": order_id, "Code": "SUCCESS", "Msg": ""})
    return checks.ok(results)


def get_orders_info(state: BalanceState, wanted: list) -> list:
    if not isinstance(wanted, list):
        raise checks.invalid("params", "an array of {OrderID} is expected")
    ids = [checks.ident(checks.struct(w, "params"), "OrderID") for w in wanted]
    orders = [checks.found(state, "orders", i, "ORDER_NOT_FOUND", "Order") for i in ids]
    return checks.ok([{k: v for k, v in books.order_view(o).items() if k not in ("ClientID", "Seq")} for o in orders])


def get_client_acts(state: BalanceState, params: dict[str, Any]) -> list:
    client_id, contract_id, date_from, date_to = _period(checks.struct(params))
    checks.client(state, client_id)
    acts = [
        a
        for a in state.table("acts").values()
        if a["ClientID"] == client_id
        and contract_id in (None, a["ContractID"])
        and date_from.date() <= dt.date.fromisoformat(a["Date"]) < date_to.date()
    ]
    return checks.ok(
        [
            {
                **books.act_view(a),
                "Date": wire.day(dt.date.fromisoformat(a["Date"])),
            }
            for a in acts
        ]
    )
