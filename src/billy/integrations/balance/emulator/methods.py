"""The `Balance2` methods the emulator answers, as `billy.integrations.balance` describes them.

Each takes the state and the call's XML-RPC parameters, runs under the state's lock, and answers
`[0, "SUCCESS", payload]` or raises `Fault` having changed nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from billy.core.money import format_amount, is_currency
from billy.integrations.balance import wire

from . import books
from .state import BalanceState, Fault

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"^[0-9]+$")


# -- parameter checks ----------------------------------------------------------------------------------
def _invalid(field: str, why: str = "") -> Fault:
    return Fault("INVALID_PARAM", f"Invalid parameter for function: {field}" + (f" ({why})" if why else ""))


def _struct(value: Any, what: str = "params") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(what, "a struct is expected")
    return value


def _text(params: dict[str, Any], field: str, *, required: bool = True) -> str | None:
    value = params.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _invalid(field)
    return value


def _id(params: dict[str, Any], field: str, *, required: bool = True) -> int | None:
    value = params.get(field)
    if value is None and not required:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _invalid(field) from None


def _money(params: dict[str, Any], field: str, *, required: bool = True, positive: bool = False) -> int | None:
    value = params.get(field)
    if value is None and not required:
        return None
    try:
        minor = wire.parse_money(value, field)
    except wire.WireError as e:
        raise _invalid(field, str(e)) from None
    if positive and minor <= 0:
        raise _invalid(field, "must be above 0")
    return minor


def _moment(params: dict[str, Any], field: str, *, required: bool = True) -> dt.datetime | None:
    value = params.get(field)
    if value is None and not required:
        return None
    try:
        return wire.parse_moment(value, field)
    except wire.WireError as e:
        raise _invalid(field, str(e)) from None


def _choice(params: dict[str, Any], field: str, choices: tuple[str, ...]) -> str:
    value = params.get(field)
    if value not in choices:
        raise _invalid(field, f"one of {', '.join(choices)}")
    return value


def _found(state: BalanceState, table: str, key: int | None, code: str, what: str) -> dict[str, Any]:
    record = state.table(table).get(key) if key is not None else None
    if record is None:
        raise Fault(code, f"{what} with ID {key} not found in DB")
    return record


def _client(state: BalanceState, client_id: Any) -> int:
    try:
        client_id = int(client_id)
    except (TypeError, ValueError):
        raise _invalid("ClientID") from None
    if client_id not in state.clients:
        raise Fault("CLIENT_NOT_FOUND", f"Client with ID {client_id} not found in DB")
    return client_id


def _ok(payload: Any = None) -> list:
    return [0, "SUCCESS"] if payload is None else [0, "SUCCESS", payload]


# -- clients -------------------------------------------------------------------------------------------
def create_client(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    name, email, phone = params.get("NAME"), params.get("EMAIL"), params.get("PHONE")
    for field, value in (("NAME", name), ("EMAIL", email), ("PHONE", phone)):
        if not isinstance(value, str) or not value.strip():
            raise _invalid(field)
    if not _EMAIL.match(email):
        raise _invalid("EMAIL")
    client_id = params.get("CLIENT_ID")
    if client_id is not None:
        client_id = _client(state, client_id)
    else:
        client_id = state.new_id()
    state.clients[client_id] = {"CLIENT_ID": client_id, "NAME": name, "EMAIL": email, "PHONE": phone}
    state.save()
    return _ok(client_id)


def find_client(state: BalanceState, params: dict[str, Any]) -> list:
    keys = {"ClientID": "CLIENT_ID", "Name": "NAME", "Email": "EMAIL", "Phone": "PHONE"}
    unknown = set(params) - set(keys)
    if unknown:
        raise _invalid(sorted(unknown)[0])
    found = [dict(c) for c in state.clients.values() if all(str(c[keys[k]]) == str(v) for k, v in params.items())]
    return _ok(found)


def link_integration_to_client(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    integration, configuration = params.get("IntegrationCC"), params.get("ConfigurationCC")
    if not integration or not configuration:
        raise _invalid("IntegrationCC/ConfigurationCC")
    client_id = _client(state, params.get("ClientID"))
    link = {"integration": integration, "configuration": configuration}
    links = state.links.setdefault(client_id, [])
    if link not in links:
        links.append(link)
        state.save()
    return _ok()


# -- payers --------------------------------------------------------------------------------------------
PERSON_FIELDS = (
    "Name",
    "LongName",
    "INN",
    "KPP",
    "Email",
    "Phone",
    "LegalAddress",
    "PostAddress",
    "BIK",
    "BankAccount",
)
_REQUIRED_PERSON_FIELDS = ("Name", "INN", "Email", "Phone", "LegalAddress")


def create_person(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    params = _struct(params)
    client_id = _client(state, params.get("ClientID"))
    person_type = _choice(params, "Type", ("legal", "individual"))
    values = {f: _text(params, f, required=f in _REQUIRED_PERSON_FIELDS) for f in PERSON_FIELDS}
    inn_length = 10 if person_type == "legal" else 12
    if not _DIGITS.match(values["INN"]) or len(values["INN"]) != inn_length:
        raise _invalid("INN", f"{inn_length} digits for a {person_type} payer")
    if values["KPP"] is not None and not (_DIGITS.match(values["KPP"]) and len(values["KPP"]) == 9):
        raise _invalid("KPP", "9 digits")
    if not _EMAIL.match(values["Email"]):
        raise _invalid("Email")
    person_id = _id(params, "PersonID", required=False)
    if person_id is not None:
        person = state.table("persons").get(person_id)
        if person is None or person["ClientID"] != client_id:
            raise Fault("PERSON_NOT_FOUND", f"Person with ID {person_id} not found in DB")
    else:
        person_id = state.new_id()
    state.table("persons")[person_id] = {"PersonID": person_id, "ClientID": client_id, "Type": person_type, **values}
    state.save()
    return _ok(person_id)


def get_client_persons(state: BalanceState, params: dict[str, Any]) -> list:
    client_id = _client(state, _struct(params).get("ClientID"))
    persons = [p for p in state.table("persons").values() if p["ClientID"] == client_id]
    return _ok([{k: v for k, v in p.items() if v is not None} for p in persons])


# -- contracts -----------------------------------------------------------------------------------------
def create_offer(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    params = _struct(params)
    person_id = _id(params, "PersonID")
    person = state.table("persons").get(person_id)
    if person is None or person["ClientID"] != _id(params, "ClientID"):
        raise Fault("PERSON_NOT_FOUND", f"Person with ID {person_id} not found in DB for this client")
    currency = params.get("Currency")
    if not is_currency(currency):
        raise _invalid("Currency")
    payment_type = _choice(params, "PaymentType", ("prepay", "postpay"))
    credit_limit = _money(params, "CreditLimit", required=payment_type == "postpay")
    term = _id(params, "PaymentTermDays", required=payment_type == "postpay")
    if payment_type == "prepay" and (credit_limit is not None or term is not None):
        raise _invalid("CreditLimit", "a prepay contract has no credit")
    if term is not None and term < 1:
        raise _invalid("PaymentTermDays")
    start_date = _moment(params, "StartDate").date()
    contract_id = state.new_id()
    now = state.now()
    state.table("contracts")[contract_id] = {
        "ContractID": contract_id,
        "ExternalID": f"ОФ-{contract_id}",
        "ClientID": person["ClientID"],
        "PersonID": person_id,
        "Currency": currency,
        "PaymentType": payment_type,
        "CreditLimit": credit_limit or 0,
        "CreditUsed": 0,
        "PaymentTermDays": term,
        "StartDate": start_date.isoformat(),
        "FinishDate": None,
        "Suspended": False,
        "ExternalRef": _text(params, "ExternalRef", required=False),
        "ServiceID": _id(params, "ServiceID", required=False) or state.settings.service_id,
        "PersonalAccountID": None,
        "account_opens_at": (now + dt.timedelta(seconds=state.settings.account_delay_seconds)).isoformat(),
    }
    books.open_due_accounts(state)
    state.save()
    return _ok({"ContractID": contract_id, "ExternalID": f"ОФ-{contract_id}"})


def update_contract(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    params = _struct(params)
    contract = _found(state, "contracts", _id(params, "ContractID"), "CONTRACT_NOT_FOUND", "Contract")
    credit_limit = _money(params, "CreditLimit", required=False)
    term = _id(params, "PaymentTermDays", required=False)
    finish = _moment(params, "FinishDate", required=False)
    if contract["PaymentType"] != "postpay" and (credit_limit is not None or term is not None):
        raise _invalid("CreditLimit", "a prepay contract has no credit")
    if term is not None and term < 1:
        raise _invalid("PaymentTermDays")
    if credit_limit is not None:
        contract["CreditLimit"] = credit_limit
    if term is not None:
        contract["PaymentTermDays"] = term
    if finish is not None:
        contract["FinishDate"] = finish.date().isoformat()
    state.save()
    return _ok({"ContractID": contract["ContractID"]})


def get_client_contracts(state: BalanceState, params: dict[str, Any]) -> list:
    client_id = _client(state, _struct(params).get("ClientID"))
    today = state.now().date()
    contracts = [books.contract_view(c, today) for c in state.table("contracts").values() if c["ClientID"] == client_id]
    return _ok(
        [
            {
                **c,
                "PaymentTermDays": c["PaymentTermDays"] or 0,
                "PersonalAccountID": c["PersonalAccountID"] or 0,
                "StartDate": wire.day(dt.date.fromisoformat(c["StartDate"])),
                "FinishDate": wire.day(dt.date.fromisoformat(c["FinishDate"])) if c["FinishDate"] else "",
            }
            for c in contracts
        ]
    )


def get_personal_account(state: BalanceState, params: dict[str, Any]) -> list:
    contract = _found(state, "contracts", _id(_struct(params), "ContractID"), "CONTRACT_NOT_FOUND", "Contract")
    if contract["PersonalAccountID"] is None:
        raise Fault("PERSONAL_ACCOUNT_NOT_READY", "The personal account is being opened; retry later")
    account = state.table("accounts")[contract["PersonalAccountID"]]
    order = state.table("orders")[account["WalletOrderID"]]
    return _ok(
        {
            "PersonalAccountID": account["PersonalAccountID"],
            "ExternalID": account["ExternalID"],
            "WalletOrderID": order["OrderID"],
            "Currency": account["Currency"],
            "PaidTotal": format_amount(order["paid"]),
            "CreditTotal": format_amount(order["credit"]),
            "ConsumedTotal": format_amount(order["consumed"]),
            "CreditLimit": format_amount(contract["CreditLimit"]),
            "CreditUsed": format_amount(contract["CreditUsed"]),
        }
    )


# -- money in ------------------------------------------------------------------------------------------
def create_request(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    params = _struct(params)
    client_id = _id(params, "ClientID")
    items = params.get("Items")
    if not isinstance(items, list) or not items:
        raise _invalid("Items")
    parsed = []
    for given in items:
        item = _struct(given, "Items")
        order_id = _id(item, "OrderID")
        order = state.table("orders").get(order_id)
        if order is None or order["ClientID"] != client_id:
            raise Fault("ORDER_NOT_FOUND", f"Order with ID {order_id} not found in DB for this client")
        parsed.append({"OrderID": order_id, "Amount": _money(item, "Amount", positive=True)})
    request_id = state.new_id()
    state.table("requests")[request_id] = {
        "RequestID": request_id,
        "ClientID": client_id,
        "Items": parsed,
        "ExternalRef": _text(params, "ExternalRef", required=False),
    }
    state.save()
    return _ok({"RequestID": request_id})


def create_invoice(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    params = _struct(params)
    request = _found(state, "requests", _id(params, "RequestID"), "REQUEST_NOT_FOUND", "Request")
    contract = _found(state, "contracts", _id(params, "ContractID"), "CONTRACT_NOT_FOUND", "Contract")
    person_id = _id(params, "PersonID")
    method = _choice(params, "PaymentMethod", ("bank", "card"))
    if contract["ClientID"] != request["ClientID"] or contract["PersonID"] != person_id:
        raise _invalid("ContractID", "the contract is not the request's client's with this payer")
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
    return _ok(
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
        _id(params, "ClientID"),
        _id(params, "ContractID", required=False),
        _moment(params, "DateFrom"),
        _moment(params, "DateTo"),
    )


def get_client_invoices(state: BalanceState, params: dict[str, Any]) -> list:
    client_id, contract_id, date_from, date_to = _period(_struct(params))
    _client(state, client_id)
    invoices = [
        books.invoice_view(i)
        for i in state.table("invoices").values()
        if i["ClientID"] == client_id
        and contract_id in (None, i["ContractID"])
        and date_from <= books.parse_time(i["Date"]) < date_to
    ]
    return _ok([{**i, "Date": books.parse_time(i["Date"])} for i in invoices])


def deposit_from_credit(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    params = _struct(params)
    contract = _found(state, "contracts", _id(params, "ContractID"), "CONTRACT_NOT_FOUND", "Contract")
    order = _found(state, "orders", _id(params, "OrderID"), "ORDER_NOT_FOUND", "Order")
    amount = _money(params, "Amount", positive=True)
    if params.get("Currency") != contract["Currency"]:
        raise _invalid("Currency", f"the contract's is {contract['Currency']}")
    if order["ContractID"] != contract["ContractID"]:
        raise Fault("ORDER_NOT_FOUND", f"Order {order['OrderID']} is not on contract {contract['ContractID']}")
    if contract["PaymentType"] != "postpay":
        raise Fault("CONTRACT_NOT_POSTPAY", f"Contract {contract['ContractID']} has no credit")
    if contract["Suspended"]:
        raise Fault("CONTRACT_SUSPENDED", f"Contract {contract['ContractID']} is suspended")
    result = books.deposit_from_credit(state, contract, order, amount, _text(params, "ExternalRef", required=False))
    return _ok({"InvoiceID": result["InvoiceID"], "CreditAvailable": format_amount(result["CreditAvailable"])})


def get_client_credit_limits(state: BalanceState, params: dict[str, Any]) -> list:
    client_id = _client(state, _struct(params).get("ClientID"))
    contracts = [
        c for c in state.table("contracts").values() if c["ClientID"] == client_id and c["PaymentType"] == "postpay"
    ]
    return _ok(
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
        raise _invalid("params", "an array of {OrderID, ConsumedTotal, AsOf} is expected")
    results = []
    for given in reports:
        report = _struct(given, "params")
        order_id = _id(report, "OrderID")
        total = _money(report, "ConsumedTotal")
        as_of = _moment(report, "AsOf")
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
    return _ok(results)


def get_orders_info(state: BalanceState, wanted: list) -> list:
    if not isinstance(wanted, list):
        raise _invalid("params", "an array of {OrderID} is expected")
    ids = [_id(_struct(w, "params"), "OrderID") for w in wanted]
    orders = [_found(state, "orders", i, "ORDER_NOT_FOUND", "Order") for i in ids]
    return _ok([{k: v for k, v in books.order_view(o).items() if k not in ("ClientID", "Seq")} for o in orders])


def get_client_acts(state: BalanceState, params: dict[str, Any]) -> list:
    client_id, contract_id, date_from, date_to = _period(_struct(params))
    _client(state, client_id)
    acts = [
        a
        for a in state.table("acts").values()
        if a["ClientID"] == client_id
        and contract_id in (None, a["ContractID"])
        and date_from.date() <= dt.date.fromisoformat(a["Date"]) < date_to.date()
    ]
    return _ok(
        [
            {
                **books.act_view(a),
                "Date": wire.day(dt.date.fromisoformat(a["Date"])),
            }
            for a in acts
        ]
    )


METHODS: dict[str, Callable[..., list]] = {
    "Balance2.CreateClient": create_client,
    "Balance2.FindClient": find_client,
    "Balance2.LinkIntegrationToClient": link_integration_to_client,
    "Balance2.CreatePerson": create_person,
    "Balance2.GetClientPersons": get_client_persons,
    "Balance2.CreateOffer": create_offer,
    "Balance2.UpdateContract": update_contract,
    "Balance2.GetClientContracts": get_client_contracts,
    "Balance2.GetPersonalAccount": get_personal_account,
    "Balance2.CreateRequest": create_request,
    "Balance2.CreateInvoice": create_invoice,
    "Balance2.GetClientInvoices": get_client_invoices,
    "Balance2.DepositFromCredit": deposit_from_credit,
    "Balance2.GetClientCreditLimits": get_client_credit_limits,
    "Balance2.UpdateCampaigns": update_campaigns,
    "Balance2.GetOrdersInfo": get_orders_info,
    "Balance2.GetClientActs": get_client_acts,
}


def dispatch(state: BalanceState, method: str, params: tuple) -> list:
    handler = METHODS.get(method)
    if handler is None:
        raise Fault("METHOD_NOT_FOUND", f"Method {method} is not supported")
    with state.lock:
        books.open_due_accounts(state)
        try:
            return handler(state, *params)
        except TypeError as e:
            raise Fault("INVALID_PARAM", f"Invalid parameters for {method}: {e}") from e
