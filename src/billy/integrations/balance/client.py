"""The real Balance adapter: XML-RPC over HTTP(S) with connect and read timeouts.

All protocol knowledge lives here: method names, parameter spellings, response tuples, fault
format, and which transport failures leave the outcome unknown.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse
import xmlrpc.client
from xml.parsers.expat import ExpatError

from .port import BalanceClient, BalanceFault, BalanceOutcomeUnknown, BalanceUnavailable, ClientData

_FAULT_CODE = re.compile(r"<code>(.*?)</code>", re.S)
_FAULT_MSG = re.compile(r"<msg>(.*?)</msg>", re.S)


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
        proxy = xmlrpc.client.ServerProxy(self.url, transport=transport, allow_none=False)
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

    def create_client(self, data: ClientData, *, client_id: int | None = None) -> int:
        params = {"NAME": data.name, "EMAIL": data.email, "PHONE": data.phone}
        if client_id is not None:
            params["CLIENT_ID"] = client_id
        result = self._call("CreateClient", self.operator_uid, params)
        try:
            return int(result[2])
        except (IndexError, TypeError, ValueError) as e:
            raise BalanceOutcomeUnknown(f"Balance CreateClient: no client id in {result!r}") from e

    def find_clients(self, data: ClientData) -> list[BalanceClient]:
        result = self._call("FindClient", {"Name": data.name, "Email": data.email, "Phone": data.phone})
        try:
            return [
                BalanceClient(client_id=int(c["CLIENT_ID"]), name=c["NAME"], email=c["EMAIL"], phone=c["PHONE"])
                for c in result[2]
            ]
        except (IndexError, KeyError, TypeError, ValueError) as e:
            raise BalanceFault("UNREADABLE", f"FindClient answered {result!r}") from e

    def link_client_to_configuration(self, *, client_id: int, integration: str, configuration: str) -> None:
        self._call(
            "LinkIntegrationToClient",
            self.operator_uid,
            {"ClientID": client_id, "IntegrationCC": integration, "ConfigurationCC": configuration},
        )


def _fault(fault_string: str) -> BalanceFault:
    code = _FAULT_CODE.search(fault_string)
    msg = _FAULT_MSG.search(fault_string)
    return BalanceFault(code.group(1).strip() if code else "UNKNOWN", msg.group(1).strip() if msg else fault_string)
