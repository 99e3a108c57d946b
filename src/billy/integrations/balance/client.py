"""The real Balance adapter: XML-RPC over HTTP(S) with connect and read timeouts.

Protocol knowledge lives here and in `wire` (the spellings): method names, response tuples, and
which transport failures leave the outcome unknown. A write whose answer cannot be read took effect
or not, nobody knows: BalanceOutcomeUnknown; a read's unreadable answer is a BalanceFault
`UNREADABLE` (safe to ask again).
"""

from __future__ import annotations

import datetime as dt
import http.client
import urllib.parse
import xmlrpc.client
from collections.abc import Callable
from typing import Any, TypeVar
from xml.parsers.expat import ExpatError

from . import port, wire
from .port import BalanceClient, BalanceError, BalanceFault, BalanceOutcomeUnknown, BalanceUnavailable, ClientData

_T = TypeVar("_T")


class _Transport(xmlrpc.client.Transport):
    """Connects explicitly, so a failure to connect (nothing sent) is told apart from a timeout after."""

    def __init__(self, *, https: bool, connect_timeout: float, timeout: float) -> None:
        super().__init__()
        self._https = https
        self._connect_timeout = connect_timeout
        self._timeout = timeout

    def make_connection(self, host):
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        chost, self._extra_headers, _ = self.get_host_info(host)
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(chost, timeout=self._connect_timeout)
        try:
            conn.connect()
        except OSError as e:
            raise BalanceUnavailable(f"cannot connect to Balance at {chost}: {e}") from e
        conn.sock.settimeout(self._timeout)
        self._connection = host, conn
        return conn

    def request(self, host, handler, request_body, verbose=False):
        # xmlrpc.client sends a request again when the connection drops before the answer (a kept-alive
        # connection gone cold). Balance calls are not idempotent: a dropped answer leaves the outcome
        # unknown, for the caller to resolve by reading Balance back, never a second CreateClient.
        return self.single_request(host, handler, request_body, verbose)


class XmlRpcBalance:
    def __init__(self, *, url: str, operator_uid: int, connect_timeout: float = 3.0, timeout: float = 10.0) -> None:
        self.url = url
        self.operator_uid = operator_uid
        self.connect_timeout = connect_timeout
        self.timeout = timeout

    def _call(self, method: str, *params):
        transport = _Transport(
            https=urllib.parse.urlsplit(self.url).scheme == "https",
            connect_timeout=self.connect_timeout,
            timeout=self.timeout,
        )
        proxy = xmlrpc.client.ServerProxy(self.url, transport=transport, allow_none=False, use_builtin_types=True)
        try:
            result = getattr(proxy, f"Balance2.{method}")(*params)
        except BalanceUnavailable:
            raise
        except xmlrpc.client.Fault as e:
            raise _fault(e.faultString) from e
        except xmlrpc.client.ProtocolError as e:
            if e.errcode == 503:
                raise BalanceUnavailable(f"Balance {method}: 503 {e.errmsg}") from e
            if e.errcode >= 500:
                raise BalanceOutcomeUnknown(f"Balance {method}: {e.errcode} {e.errmsg}") from e
            raise BalanceFault(f"HTTP_{e.errcode}", f"Balance {method}: {e.errmsg}") from e
        except (TimeoutError, ConnectionError, http.client.HTTPException, OSError) as e:
            raise BalanceOutcomeUnknown(f"Balance {method}: {type(e).__name__}: {e}") from e
        except (xmlrpc.client.ResponseError, ExpatError) as e:
            raise BalanceOutcomeUnknown(f"Balance {method}: unreadable response: {e}") from e
        finally:
            transport.close()
        if not isinstance(result, list | tuple) or not result:
            raise BalanceOutcomeUnknown(f"Balance {method}: unexpected response {result!r}")
        if result[0] != 0:
            raise BalanceFault(str(result[0]), str(result[1] if len(result) > 1 else ""))
        return result

    def _write(self, method: str, decode: Callable[[Any], _T], *params) -> _T:
        """A write: its payload decoded, or BalanceOutcomeUnknown when the answer can't be read."""
        result = self._call(method, self.operator_uid, *params)
        try:
            return decode(result[2] if len(result) > 2 else None)
        except (IndexError, KeyError, TypeError, ValueError) as e:
            raise BalanceOutcomeUnknown(f"Balance {method}: unreadable answer {result!r}") from e

    def _read(self, method: str, decode: Callable[[Any], _T], *params) -> _T:
        """A read: its payload decoded, or BalanceFault UNREADABLE (asking again is safe)."""
        result = self._call(method, *params)
        try:
            return decode(result[2])
        except (IndexError, KeyError, TypeError, ValueError) as e:
            raise BalanceFault("UNREADABLE", f"{method} answered {result!r}") from e

    # -- clients ---------------------------------------------------------------------------------
    def create_client(self, data: ClientData, *, client_id: int | None = None) -> int:
        params = wire.optional({"NAME": data.name, "EMAIL": data.email, "PHONE": data.phone}, CLIENT_ID=client_id)
        return self._write("CreateClient", int, params)

    def find_clients(self, data: ClientData) -> list[BalanceClient]:
        return self._read(
            "FindClient",
            lambda found: [
                BalanceClient(client_id=int(c["CLIENT_ID"]), name=c["NAME"], email=c["EMAIL"], phone=c["PHONE"])
                for c in found
            ],
            {"Name": data.name, "Email": data.email, "Phone": data.phone},
        )

    def link_client_to_configuration(self, *, client_id: int, integration: str, configuration: str) -> None:
        self._call(
            "LinkIntegrationToClient",
            self.operator_uid,
            {"ClientID": client_id, "IntegrationCC": integration, "ConfigurationCC": configuration},
        )

    # -- payers and contracts --------------------------------------------------------------------
    def create_person(self, *, client_id: int, data: port.PersonData, person_id: int | None = None) -> int:
        return self._write("CreatePerson", int, wire.person_params(client_id, data, person_id))

    def get_client_persons(self, *, client_id: int) -> list[port.Person]:
        return self._read("GetClientPersons", _each(wire.parse_person), {"ClientID": client_id})

    def create_offer(self, offer: port.OfferData) -> port.CreatedContract:
        return self._write(
            "CreateOffer",
            lambda p: port.CreatedContract(contract_id=int(p["ContractID"]), external_id=str(p["ExternalID"])),
            wire.offer_params(offer),
        )

    def update_contract(self, change: port.ContractChange) -> None:
        self._write("UpdateContract", lambda p: int(p["ContractID"]), wire.contract_change_params(change))

    def get_client_contracts(self, *, client_id: int) -> list[port.Contract]:
        return self._read("GetClientContracts", _each(wire.parse_contract), {"ClientID": client_id})

    def get_personal_account(self, *, contract_id: int) -> port.PersonalAccount:
        return self._read("GetPersonalAccount", wire.parse_personal_account, {"ContractID": contract_id})

    # -- money in --------------------------------------------------------------------------------
    def create_request(self, request: port.Request) -> int:
        return self._write("CreateRequest", lambda p: int(p["RequestID"]), wire.request_params(request))

    def create_invoice(self, data: port.InvoiceData) -> port.IssuedInvoice:
        return self._write("CreateInvoice", wire.parse_issued_invoice, wire.invoice_params(data))

    def get_client_invoices(
        self, *, client_id: int, date_from: dt.datetime, date_to: dt.datetime, contract_id: int | None = None
    ) -> list[port.Invoice]:
        params = wire.period_params(wire.optional({"ClientID": client_id}, ContractID=contract_id), date_from, date_to)
        return self._read("GetClientInvoices", _each(wire.parse_invoice), params)

    def deposit_from_credit(self, deposit: port.CreditDeposit) -> port.CreditDepositResult:
        return self._write(
            "DepositFromCredit",
            lambda p: port.CreditDepositResult(
                invoice_id=int(p["InvoiceID"]),
                credit_available=wire.parse_money(p["CreditAvailable"], "CreditAvailable"),
            ),
            wire.deposit_params(deposit),
        )

    def get_client_credit_limits(self, *, client_id: int) -> port.CreditLimits:
        return self._read("GetClientCreditLimits", wire.parse_credit_limits, {"ClientID": client_id})

    # -- consumption and acts --------------------------------------------------------------------
    def update_campaigns(self, reports: list[port.ConsumptionReport]) -> list[port.ConsumptionResult]:
        # Cumulative totals: a repeat changes nothing, so an unknown outcome is resolved by sending again.
        return self._write(
            "UpdateCampaigns",
            _each(lambda r: port.ConsumptionResult(order_id=int(r["OrderID"]), code=r["Code"], message=r["Msg"])),
            [wire.consumption_params(r) for r in reports],
        )

    def get_orders_info(self, order_ids: list[int]) -> list[port.OrderInfo]:
        return self._read("GetOrdersInfo", _each(wire.parse_order_info), [{"OrderID": i} for i in order_ids])

    def get_client_acts(
        self, *, client_id: int, date_from: dt.date, date_to: dt.date, contract_id: int | None = None
    ) -> list[port.Act]:
        params = wire.period_params(wire.optional({"ClientID": client_id}, ContractID=contract_id), date_from, date_to)
        return self._read("GetClientActs", _each(wire.parse_act), params)


def _each(decode: Callable[[Any], _T]) -> Callable[[Any], list[_T]]:
    def decode_all(items: Any) -> list[_T]:
        if not isinstance(items, list):
            raise TypeError(f"a list is expected, got {items!r}")
        return [decode(item) for item in items]

    return decode_all


def _fault(fault_string: str) -> BalanceError:
    code, message = wire.parse_fault(fault_string)
    if code == port.BalanceCode.INTERNAL_ERROR:
        # Balance failed inside the call: it may have done part of it (see `billy.integrations.balance`).
        return BalanceOutcomeUnknown(f"Balance INTERNAL_ERROR: {message}")
    return BalanceFault(code, message)
