"""The emulator's state: Balance's objects, its clock, settings, faults and logs, behind one lock.

Objects are kept as Balance would describe them (CamelCase fields) with money in integer kopecks;
the XML-RPC methods (`methods`), the money movements (`books`) and the control API render them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import xmlrpc.client
import zoneinfo
from pathlib import Path
from typing import Any

from billy.core import clock
from billy.integrations.balance import wire
from billy.integrations.emulation import StateFile

API_FAULTS = ("unavailable", "error", "fault", "delay", "commit_then_timeout")
NOTIFICATION_FAULTS = ("lose_notification", "repeat_notification", "reorder_notification")
FAULT_KINDS = (*API_FAULTS, *NOTIFICATION_FAULTS)
# Each table and the field that is its key; ids come from one counter, as Balance's look.
TABLES = {
    "persons": "PersonID",
    "contracts": "ContractID",
    "accounts": "PersonalAccountID",
    "orders": "OrderID",
    "requests": "RequestID",
    "invoices": "InvoiceID",
    "deposits": "InvoiceID",
    "acts": "ActID",
}
DEFAULT_SERVICE_ID = 1002


class Fault(Exception):
    """A Balance refusal: answered as an XML-RPC fault, nothing changed."""

    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg

    def as_xmlrpc(self) -> xmlrpc.client.Fault:
        return xmlrpc.client.Fault(-1, wire.fault_string(self.code, self.msg))


@dataclasses.dataclass
class FaultRule:
    kind: str
    remaining: int
    seconds: float = 0.0
    method: str | None = None  # "Balance2.<Name>", or None for any
    code: str = "INTERNAL_ERROR"  # what a `fault` answers
    times: int = 2  # how many copies a `repeat_notification` sends


@dataclasses.dataclass
class Settings:
    """What `billy emulate balance` options and `POST /_emulator/settings` set: configuration, not
    state, so the state file does not keep it (a restart takes the options as given)."""

    notify_url: str | None = None  # for every service without its own
    notify_urls: dict[str, str] = dataclasses.field(default_factory=dict)  # str(ServiceID) → URL
    notify_scale: float = 1.0  # the retry schedule is multiplied by it (short in dev and tests)
    account_delay_seconds: float = 0.0  # emulator time from a contract to its personal account
    service_id: int = DEFAULT_SERVICE_ID  # the ServiceID of wallet orders whose offer names none

    def url_for(self, service_id: int) -> str | None:
        return self.notify_urls.get(str(service_id), self.notify_url)


# Balance keeps its books in Moscow time: a month closes at midnight in Moscow.
BOOKS_ZONE = zoneinfo.ZoneInfo("Europe/Moscow")


def month_of(moment: dt.datetime) -> str:
    local = moment.astimezone(BOOKS_ZONE)
    return f"{local.year:04d}-{local.month:02d}"


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """The month's half-open span (Moscow midnights, as aware UTC times); ValueError for anything but `YYYY-MM`."""
    start = dt.datetime.strptime(month + "-01", "%Y-%m-%d").replace(tzinfo=BOOKS_ZONE)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


class BalanceState:
    def __init__(self, state_file: Path | None = None, *, settings: Settings | None = None) -> None:
        self.lock = threading.RLock()
        self.wakeup = threading.Condition(self.lock)  # the background thread waits on it
        self.initial_settings = settings or Settings()
        self.state_file = StateFile(state_file, lock=self.lock, snapshot=self._snapshot)
        self.base_url = ""  # set once the server is bound; invoice URLs point at it
        self.calls: list[dict[str, Any]] = []
        self.faults: list[FaultRule] = []
        self.deliveries: list[dict[str, Any]] = []  # every NotifyOrder attempt and how billy answered
        self.generation = 0  # bumped by reset, so an in-flight delivery is not recorded again
        self._forget()
        saved = self.state_file.read()
        if saved is not None:
            self._load(saved)

    # -- bookkeeping -------------------------------------------------------------------------------
    def _forget(self) -> None:
        self.clients: dict[int, dict[str, Any]] = {}
        self.links: dict[int, list[dict[str, str]]] = {}
        self.tables: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in TABLES}
        self.next_id = 1_000_001
        self.clock_offset = 0.0
        self.settings = dataclasses.replace(self.initial_settings, notify_urls=dict(self.initial_settings.notify_urls))
        self.queue: list[dict[str, Any]] = []  # notifications waiting for (re)delivery
        self.closed_months: list[str] = []
        self.clock_month = month_of(self.now())  # the month the clock was last seen in

    def _snapshot(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "links": self.links,
            "next_id": self.next_id,
            "tables": {name: list(rows.values()) for name, rows in self.tables.items()},
            "clock_offset": self.clock_offset,
            "queue": self.queue,
            "closed_months": self.closed_months,
            "clock_month": self.clock_month,
        }

    def _load(self, saved: dict[str, Any]) -> None:
        self.clients = {int(k): v for k, v in saved["clients"].items()}
        self.links = {int(k): v for k, v in saved["links"].items()}
        self.next_id = saved["next_id"]
        # A file written before payers, contracts and money existed has none of what follows.
        for name, rows in saved.get("tables", {}).items():
            self.tables[name] = {row[TABLES[name]]: row for row in rows}
        self.clock_offset = saved.get("clock_offset", 0.0)
        self.queue = saved.get("queue", [])
        self.closed_months = saved.get("closed_months", [])
        self.clock_month = saved.get("clock_month", self.clock_month)

    def save(self) -> None:
        self.state_file.changed()

    def reset(self) -> None:
        """Forget every object, log, fault and queued notification; the clock and settings go back
        to how the emulator was started."""
        with self.lock:
            self._forget()
            self.calls.clear()
            self.faults.clear()
            self.deliveries.clear()
            self.generation += 1
            self.save()
        self.state_file.flush()

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def now(self) -> dt.datetime:
        """Emulator time: billy's clock moved forward by every `advance_clock`."""
        return clock.now() + dt.timedelta(seconds=self.clock_offset)

    def advance_clock(self, seconds: float) -> dt.datetime:
        with self.lock:
            self.clock_offset += seconds
            self.save()
            self.wakeup.notify_all()  # month boundaries and personal accounts follow at once
            return self.now()

    def table(self, name: str) -> dict[int, dict[str, Any]]:
        return self.tables[name]

    # -- faults and the call log -------------------------------------------------------------------
    def add_fault(self, rule: FaultRule) -> None:
        with self.lock:
            self.faults.append(rule)

    def take_fault(self, kinds: tuple[str, ...], method: str | None = None) -> FaultRule | None:
        with self.lock:
            for rule in self.faults:
                if rule.kind in kinds and rule.method in (None, method):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self.faults.remove(rule)
                    return rule
        return None

    def log(self, method: str, params: Any, outcome: str) -> None:
        with self.lock:
            self.calls.append(
                {
                    "seq": len(self.calls) + 1,
                    "method": method,
                    "params": jsonable(params),
                    "outcome": outcome,
                    "at": self.now().isoformat(),
                }
            )


def jsonable(value: Any) -> Any:
    """XML-RPC values as JSON: times as ISO 8601 strings, tuples as lists."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | xmlrpc.client.DateTime):
        return wire.parse_moment(value).isoformat()
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value
