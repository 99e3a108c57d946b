"""The `Balance2` methods the emulator answers, as `billy.integrations.balance` describes them: the
table of methods and the clients' own; payers and contracts in `methods_contracts`, money in,
consumption and acts in `methods_money`.

Each takes the state and the call's XML-RPC parameters, runs under the state's lock, and answers
`[0, "SUCCESS", payload]` or raises `Fault` having changed nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import books, checks, methods_contracts, methods_money
from .state import BalanceState, Fault


# -- clients -------------------------------------------------------------------------------------------
def create_client(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    name, email, phone = params.get("NAME"), params.get("EMAIL"), params.get("PHONE")
    for field, value in (("NAME", name), ("EMAIL", email), ("PHONE", phone)):
        if not isinstance(value, str) or not value.strip():
            raise checks.invalid(field)
    if not checks.EMAIL.match(email):
        raise checks.invalid("EMAIL")
    client_id = params.get("CLIENT_ID")
    if client_id is not None:
        client_id = checks.client(state, client_id)
    else:
        client_id = state.new_id()
    state.clients[client_id] = {"CLIENT_ID": client_id, "NAME": name, "EMAIL": email, "PHONE": phone}
    state.save()
    return checks.ok(client_id)


def find_client(state: BalanceState, params: dict[str, Any]) -> list:
    keys = {"ClientID": "CLIENT_ID", "Name": "NAME", "Email": "EMAIL", "Phone": "PHONE"}
    unknown = set(params) - set(keys)
    if unknown:
        raise checks.invalid(sorted(unknown)[0])
    found = [dict(c) for c in state.clients.values() if all(str(c[keys[k]]) == str(v) for k, v in params.items())]
    return checks.ok(found)


def link_integration_to_client(state: BalanceState, operator_uid: int, params: dict[str, Any]) -> list:
    integration, configuration = params.get("IntegrationCC"), params.get("ConfigurationCC")
    if not integration or not configuration:
        raise checks.invalid("IntegrationCC/ConfigurationCC")
    client_id = checks.client(state, params.get("ClientID"))
    link = {"integration": integration, "configuration": configuration}
    links = state.links.setdefault(client_id, [])
    if link not in links:
        links.append(link)
        state.save()
    return checks.ok()


METHODS: dict[str, Callable[..., list]] = {
    "Balance2.CreateClient": create_client,
    "Balance2.FindClient": find_client,
    "Balance2.LinkIntegrationToClient": link_integration_to_client,
    "Balance2.CreatePerson": methods_contracts.create_person,
    "Balance2.GetClientPersons": methods_contracts.get_client_persons,
    "Balance2.CreateOffer": methods_contracts.create_offer,
    "Balance2.UpdateContract": methods_contracts.update_contract,
    "Balance2.GetClientContracts": methods_contracts.get_client_contracts,
    "Balance2.GetPersonalAccount": methods_contracts.get_personal_account,
    "Balance2.CreateRequest": methods_money.create_request,
    "Balance2.CreateInvoice": methods_money.create_invoice,
    "Balance2.GetClientInvoices": methods_money.get_client_invoices,
    "Balance2.DepositFromCredit": methods_money.deposit_from_credit,
    "Balance2.GetClientCreditLimits": methods_money.get_client_credit_limits,
    "Balance2.UpdateCampaigns": methods_money.update_campaigns,
    "Balance2.GetOrdersInfo": methods_money.get_orders_info,
    "Balance2.GetClientActs": methods_money.get_client_acts,
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
