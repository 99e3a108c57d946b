"""The emulated methods of payers, contracts and personal accounts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from billy.core.money import format_amount, is_currency
from billy.integrations.balance import wire

from . import books, checks
from .state import BalanceState, Fault

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
    params = checks.struct(params)
    client_id = checks.client(state, params.get("ClientID"))
    person_type = checks.choice(params, "Type", ("legal", "individual"))
    values = {f: checks.text(params, f, required=f in _REQUIRED_PERSON_FIELDS) for f in PERSON_FIELDS}
    inn_length = 10 if person_type == "legal" else 12
    if not checks.DIGITS.match(values["INN"]) or len(values["INN"]) != inn_length:
        raise checks.invalid("INN", f"{inn_length} digits for a {person_type} payer")
    if values["KPP"] is not None and not (checks.DIGITS.match(values["KPP"]) and len(values["KPP"]) == 9):
        raise checks.invalid("KPP", "9 digits")
    if not checks.EMAIL.match(values["Email"]):
        raise checks.invalid("Email")
    person_id = checks.ident(params, "PersonID", required=False)
    if person_id is not None:
        person = state.table("persons").get(person_id)
        if person is None or person["ClientID"] != client_id:
            raise Fault("PERSON_NOT_FOUND", f"Person with ID {person_id} not found in DB")
    else:
        person_id = state.new_id()
    state.table("persons")[person_id] = {"PersonID": person_id, "ClientID": client_id, "Type": person_type, **values}
    state.save()
    return checks.ok(person_id)


def get_client_persons(state: BalanceState, params: dict[str, Any]) -> list:
    client_id = checks.client(state, checks.struct(params).get("ClientID"))
    persons = [p for p in state.table("persons").values() if p["ClientID"] == client_id]
    return checks.ok([{k: v for k, v in p.items() if v is not None} for p in persons])


# -- contracts -----------------------------------------------------------------------------------------
def create_offer(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    params = checks.struct(params)
    person_id = checks.ident(params, "PersonID")
    person = state.table("persons").get(person_id)
    if person is None or person["ClientID"] != checks.ident(params, "ClientID"):
        raise Fault("PERSON_NOT_FOUND", f"Person with ID {person_id} not found in DB for this client")
    currency = params.get("Currency")
    if not is_currency(currency):
        raise checks.invalid("Currency")
    payment_type = checks.choice(params, "PaymentType", ("prepay", "postpay"))
    credit_limit = checks.money(params, "CreditLimit", required=payment_type == "postpay")
    term = checks.ident(params, "PaymentTermDays", required=payment_type == "postpay")
    if payment_type == "prepay" and (credit_limit is not None or term is not None):
        raise checks.invalid("CreditLimit", "a prepay contract has no credit")
    if term is not None and term < 1:
        raise checks.invalid("PaymentTermDays")
    start_date = checks.moment(params, "StartDate").date()
    external_ref = checks.text(params, "ExternalRef", required=False)
    service_id = checks.ident(params, "ServiceID", required=False) or state.settings.service_id
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
        "ExternalRef": external_ref,
        "ServiceID": service_id,
        "PersonalAccountID": None,
        "account_opens_at": (now + dt.timedelta(seconds=state.settings.account_delay_seconds)).isoformat(),
    }
    books.open_due_accounts(state)
    state.save()
    return checks.ok({"ContractID": contract_id, "ExternalID": f"ОФ-{contract_id}"})


def update_contract(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    params = checks.struct(params)
    contract = checks.found(state, "contracts", checks.ident(params, "ContractID"), "CONTRACT_NOT_FOUND", "Contract")
    credit_limit = checks.money(params, "CreditLimit", required=False)
    term = checks.ident(params, "PaymentTermDays", required=False)
    finish = checks.moment(params, "FinishDate", required=False)
    if contract["PaymentType"] != "postpay" and (credit_limit is not None or term is not None):
        raise checks.invalid("CreditLimit", "a prepay contract has no credit")
    if term is not None and term < 1:
        raise checks.invalid("PaymentTermDays")
    if credit_limit is not None:
        contract["CreditLimit"] = credit_limit
    if term is not None:
        contract["PaymentTermDays"] = term
    if finish is not None:
        contract["FinishDate"] = finish.date().isoformat()
    state.save()
    return checks.ok({"ContractID": contract["ContractID"]})


def get_client_contracts(state: BalanceState, params: dict[str, Any]) -> list:
    client_id = checks.client(state, checks.struct(params).get("ClientID"))
    today = state.now().date()
    contracts = [books.contract_view(c, today) for c in state.table("contracts").values() if c["ClientID"] == client_id]
    return checks.ok(
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
    contract = checks.found(
        state, "contracts", checks.ident(checks.struct(params), "ContractID"), "CONTRACT_NOT_FOUND", "Contract"
    )
    if contract["PersonalAccountID"] is None:
        raise Fault("PERSONAL_ACCOUNT_NOT_READY", "The personal account is being opened; retry later")
    account = state.table("accounts")[contract["PersonalAccountID"]]
    order = state.table("orders")[account["WalletOrderID"]]
    return checks.ok(
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
