"""The emulator's control API (JSON under `/_emulator/`), as the HTTP handler answers it, and its
client for tests and `billy dev`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import httpx

from billy.integrations.balance import wire

from . import books, methods_money
from .state import FAULT_KINDS, BalanceState, Fault, FaultRule, Settings


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _amount(spec: dict[str, Any], field: str = "amount") -> int:
    try:
        return wire.parse_money(spec.get(field), field)
    except wire.WireError as e:
        raise ControlError(400, str(e)) from e


def _record(state: BalanceState, table: str, key: str) -> dict[str, Any]:
    try:
        record = state.table(table).get(int(key))
    except ValueError:
        record = None
    if record is None:
        raise ControlError(404, f"no such {table[:-1]} {key}")
    return record


def read(state: BalanceState, path: str, query: dict[str, str]) -> Any:
    """What `GET /_emulator/<path>` answers; ControlError 404 for an unknown path."""
    with state.lock:
        today = state.now().date()
        views = {
            "clients": lambda: [{**c, "links": state.links.get(cid, [])} for cid, c in sorted(state.clients.items())],
            "calls": lambda: [
                c for c in state.calls if not query.get("method") or c["method"].endswith("." + query["method"])
            ],
            "persons": lambda: list(state.table("persons").values()),
            "contracts": lambda: [books.contract_view(c, today) for c in state.table("contracts").values()],
            "personal_accounts": lambda: list(state.table("accounts").values()),
            "payment_requests": lambda: [
                {**r, "Items": [{**i, "Amount": wire.money(i["Amount"])} for i in r["Items"]]}
                for r in state.table("requests").values()
            ],
            "orders": lambda: [books.order_view(o) for o in state.table("orders").values()],
            "invoices": lambda: [
                {**books.invoice_view(i), "URL": methods_money.invoice_url(state, i["InvoiceID"])}
                for i in state.table("invoices").values()
            ],
            "deposits": lambda: [{**d, "Amount": wire.money(d["Amount"])} for d in state.table("deposits").values()],
            "acts": lambda: [books.act_view(a) for a in state.table("acts").values()],
            "notifications": lambda: list(state.deliveries),
            "settings": lambda: dataclasses.asdict(state.settings),
            "faults": lambda: [dataclasses.asdict(r) for r in state.faults],
            "clock": lambda: {"now": state.now().isoformat(), "month": state.clock_month},
        }
        if path not in views:
            raise ControlError(404, f"no GET /_emulator/{path}")
        payload = views[path]()
    return {path: payload} if isinstance(payload, list) else payload


def act(state: BalanceState, path: str, spec: dict[str, Any]) -> Any:
    """What `POST /_emulator/<path>` does and answers."""
    try:
        with state.lock:
            result = _act(state, path.split("/"), spec)
    except Fault as f:
        raise ControlError(409, f"{f.code}: {f.msg}") from f
    except (KeyError, TypeError, ValueError) as e:
        raise ControlError(400, f"bad request: {e}") from e
    if result is None:
        raise ControlError(404, f"no POST /_emulator/{path}")
    return result


def _act(state: BalanceState, parts: list[str], spec: dict[str, Any]) -> Any:
    result = None
    match parts:
        case ["reset"]:
            state.reset()
            result = {"status": "reset"}
        case ["faults"]:
            result = add_fault(state, spec)
        case ["settings"]:
            result = change_settings(state, spec)
        case ["clock"]:
            result = {"now": state.advance_clock(float(spec["advance_seconds"])).isoformat()}
        case ["close_month"]:
            month = spec.get("month")
            try:
                books.month_bounds(str(month))
            except ValueError as e:
                raise ControlError(400, f"month is YYYY-MM, not {month!r}") from e
            result = books.close_month(state, month)
        case ["invoices", key, "pay"]:
            invoice = _record(state, "invoices", key)
            left = invoice["Amount"] - invoice["PaidAmount"]
            books.pay_invoice(state, invoice, _amount(spec) if spec.get("amount") is not None else left)
            result = books.invoice_view(invoice)
        case ["personal_accounts", key, "transfer"]:
            account = _record(state, "accounts", key)
            books.transfer(state, account, _amount(spec))
            result = books.order_view(state.table("orders")[account["WalletOrderID"]])
        case ["orders", key, "consumption"]:
            order = _record(state, "orders", key)
            books.set_consumption(state, order, _amount(spec, "consumed_total"), state.now())
            result = books.order_view(order)
        case ["contracts", key, "suspend"]:
            contract = _record(state, "contracts", key)
            contract["Suspended"] = bool(spec.get("suspended", True))
            state.save()
            result = books.contract_view(contract, state.now().date())
    return result


def add_fault(state: BalanceState, spec: dict[str, Any]) -> dict[str, Any]:
    rule = FaultRule(
        kind=spec["kind"],
        remaining=int(spec.get("count", 1)),
        seconds=float(spec.get("seconds", 0)),
        method=("Balance2." + spec["method"]) if spec.get("method") else None,
        code=str(spec.get("code") or "INTERNAL_ERROR"),
        times=int(spec.get("times", 2)),
    )
    if rule.kind not in FAULT_KINDS or rule.remaining < 1 or rule.times < 1:
        raise ControlError(400, f"kind must be one of {FAULT_KINDS}, count and times >= 1")
    state.add_fault(rule)
    return dataclasses.asdict(rule)


def change_settings(state: BalanceState, spec: dict[str, Any]) -> dict[str, Any]:
    known = {f.name for f in dataclasses.fields(Settings)}
    if set(spec) - known:
        raise ControlError(400, f"unknown settings {sorted(set(spec) - known)}; known: {sorted(known)}")
    changes = dict(spec)
    if "notify_urls" in changes:
        changes["notify_urls"] = {str(k): v for k, v in (changes["notify_urls"] or {}).items() if v}
    settings = Settings(**{**dataclasses.asdict(state.settings), **changes})
    if settings.notify_scale < 0 or settings.account_delay_seconds < 0:
        raise ControlError(400, "notify_scale and account_delay_seconds are >= 0")
    state.settings = settings
    state.save()
    state.wakeup.notify_all()
    return dataclasses.asdict(state.settings)


class BalanceEmulatorControl:
    """Drives a running emulator's control API (tests, `billy dev`)."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=10)

    def _get(self, path: str, **params: str) -> Any:
        response = self._http.get(f"/_emulator/{path}", params=params or None)
        response.raise_for_status()
        return response.json()

    def _post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        response = self._http.post(f"/_emulator/{path}", json=payload or {})
        response.raise_for_status()
        return response.json()

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        return self._get("calls", **({"method": method} if method else {}))["calls"]

    def clients(self) -> list[dict[str, Any]]:
        return self._get("clients")["clients"]

    def persons(self) -> list[dict[str, Any]]:
        return self._get("persons")["persons"]

    def contracts(self) -> list[dict[str, Any]]:
        return self._get("contracts")["contracts"]

    def payment_requests(self) -> list[dict[str, Any]]:
        return self._get("payment_requests")["payment_requests"]

    def orders(self) -> list[dict[str, Any]]:
        return self._get("orders")["orders"]

    def invoices(self) -> list[dict[str, Any]]:
        return self._get("invoices")["invoices"]

    def acts(self) -> list[dict[str, Any]]:
        return self._get("acts")["acts"]

    def notifications(self) -> list[dict[str, Any]]:
        return self._get("notifications")["notifications"]

    def inject(
        self,
        kind: str,
        *,
        count: int = 1,
        seconds: float = 0,
        method: str | None = None,
        code: str | None = None,
        times: int = 2,
    ) -> None:
        spec = {"kind": kind, "count": count, "seconds": seconds, "method": method, "code": code, "times": times}
        self._post("faults", spec)

    def clear_faults(self) -> None:
        self._http.delete("/_emulator/faults").raise_for_status()

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change settings: notify_url, notify_urls {service_id: url}, notify_scale, account_delay_seconds."""
        return self._post("settings", settings)

    def now(self) -> dt.datetime:
        """The emulator's clock."""
        return dt.datetime.fromisoformat(self._get("clock")["now"])

    def advance_clock(self, seconds: float) -> str:
        return self._post("clock", {"advance_seconds": seconds})["now"]

    def pay_invoice(self, invoice_id: int, amount: str | None = None) -> dict[str, Any]:
        return self._post(f"invoices/{invoice_id}/pay", {"amount": amount})

    def transfer(self, personal_account_id: int, amount: str) -> dict[str, Any]:
        return self._post(f"personal_accounts/{personal_account_id}/transfer", {"amount": amount})

    def set_consumption(self, order_id: int, consumed_total: str) -> dict[str, Any]:
        return self._post(f"orders/{order_id}/consumption", {"consumed_total": consumed_total})

    def suspend(self, contract_id: int, suspended: bool = True) -> dict[str, Any]:
        return self._post(f"contracts/{contract_id}/suspend", {"suspended": suspended})

    def close_month(self, month: str) -> dict[str, Any]:
        return self._post("close_month", {"month": month})

    def reset(self) -> None:
        self._post("reset")

    def close(self) -> None:
        self._http.close()
