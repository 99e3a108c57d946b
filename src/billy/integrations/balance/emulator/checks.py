"""Parameter checks of the emulated methods: each answers the value or raises Balance's fault."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from billy.integrations.balance import wire

from .state import BalanceState, Fault

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DIGITS = re.compile(r"^[0-9]+$")


# -- parameter checks ----------------------------------------------------------------------------------
def invalid(field: str, why: str = "") -> Fault:
    return Fault("INVALID_PARAM", f"Invalid parameter for function: {field}" + (f" ({why})" if why else ""))


def struct(value: Any, what: str = "params") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(what, "a struct is expected")
    return value


def text(params: dict[str, Any], field: str, *, required: bool = True) -> str | None:
    value = params.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise invalid(field)
    return value


def ident(params: dict[str, Any], field: str, *, required: bool = True) -> int | None:
    value = params.get(field)
    if value is None and not required:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(field) from None


def money(params: dict[str, Any], field: str, *, required: bool = True, positive: bool = False) -> int | None:
    value = params.get(field)
    if value is None and not required:
        return None
    try:
        minor = wire.parse_money(value, field)
    except wire.WireError as e:
        raise invalid(field, str(e)) from None
    if positive and minor <= 0:
        raise invalid(field, "must be above 0")
    return minor


def moment(params: dict[str, Any], field: str, *, required: bool = True) -> dt.datetime | None:
    value = params.get(field)
    if value is None and not required:
        return None
    try:
        return wire.parse_moment(value, field)
    except wire.WireError as e:
        raise invalid(field, str(e)) from None


def choice(params: dict[str, Any], field: str, choices: tuple[str, ...]) -> str:
    value = params.get(field)
    if value not in choices:
        raise invalid(field, f"one of {', '.join(choices)}")
    return value


def found(state: BalanceState, table: str, key: int | None, code: str, what: str) -> dict[str, Any]:
    record = state.table(table).get(key) if key is not None else None
    if record is None:
        raise Fault(code, f"{what} with ID {key} not found in DB")
    return record


def client(state: BalanceState, client_id: Any) -> int:
    try:
        client_id = int(client_id)
    except (TypeError, ValueError):
        raise invalid("ClientID") from None
    if client_id not in state.clients:
        raise Fault("CLIENT_NOT_FOUND", f"Client with ID {client_id} not found in DB")
    return client_id


def ok(payload: Any = None) -> list:
    return [0, "SUCCESS"] if payload is None else [0, "SUCCESS", payload]
