"""A Balance emulator: an XML-RPC server holding clients and configuration links.

It speaks the methods documented in `billy.integrations.balance`, answers with Balance-like
faults (`INVALID_PARAM`, `CLIENT_NOT_FOUND`), keeps a call log, and takes switchable faults through
a small JSON control API under `/_emulator/`:

- `GET  /_emulator/calls[?method=CreateClient]`  the call log, oldest first
- `GET  /_emulator/clients`                      clients with their configuration links
- `POST /_emulator/faults` `{"kind", "count", "seconds", "method"}` queue a fault for the next
  `count` calls (of `method`, or any):
    `unavailable` → HTTP 503, nothing done;  `error` → HTTP 500, nothing done;
    `fault` → an XML-RPC fault `INTERNAL_ERROR`, nothing done;
    `delay` → wait `seconds`, then do the call;
    `commit_then_timeout` → do the call, then wait `seconds` before answering (the caller times out).
- `DELETE /_emulator/faults`                      clear queued faults
- `POST /_emulator/reset`                         forget clients, links, calls and faults

With `state_file`, clients and links survive a restart (the call log does not).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
import time
import urllib.parse
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from billy.integrations.emulation import StateFile

logger = logging.getLogger(__name__)

FAULT_KINDS = ("unavailable", "error", "fault", "delay", "commit_then_timeout")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Fault(Exception):
    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg

    def as_xmlrpc(self) -> xmlrpc.client.Fault:
        return xmlrpc.client.Fault(
            -1, f"<error><msg>{self.msg}</msg><wo-rollback>0</wo-rollback><code>{self.code}</code></error>"
        )


@dataclasses.dataclass
class _FaultRule:
    kind: str
    remaining: int
    seconds: float = 0.0
    method: str | None = None


class BalanceState:
    """Clients, links, the call log and queued faults, behind one lock."""

    def __init__(self, state_file: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.state_file = StateFile(
            state_file,
            lock=self.lock,
            snapshot=lambda: {"clients": self.clients, "links": self.links, "next_id": self.next_id},
        )
        self.clients: dict[int, dict[str, Any]] = {}
        self.links: dict[int, list[dict[str, str]]] = {}
        self.next_id = 1_000_001
        self.calls: list[dict[str, Any]] = []
        self.faults: list[_FaultRule] = []
        saved = self.state_file.read()
        if saved is not None:
            self.clients = {int(k): v for k, v in saved["clients"].items()}
            self.links = {int(k): v for k, v in saved["links"].items()}
            self.next_id = saved["next_id"]

    def _save(self) -> None:
        self.state_file.changed()

    def reset(self) -> None:
        with self.lock:
            self.clients.clear()
            self.links.clear()
            self.calls.clear()
            self.faults.clear()
            self._save()

    def take_fault(self, method: str) -> _FaultRule | None:
        with self.lock:
            for rule in self.faults:
                if rule.method in (None, method) and rule.remaining > 0:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self.faults.remove(rule)
                    return rule
        return None

    def log(self, method: str, params: Any, outcome: str) -> None:
        with self.lock:
            self.calls.append(
                {"seq": len(self.calls) + 1, "method": method, "params": params, "outcome": outcome, "at": time.time()}
            )

    # -- Balance2 methods ----------------------------------------------------------------------
    def create_client(self, operator_uid: int, params: dict[str, Any]) -> list:
        name, email, phone = params.get("NAME"), params.get("EMAIL"), params.get("PHONE")
        for field, value in (("NAME", name), ("EMAIL", email), ("PHONE", phone)):
            if not isinstance(value, str) or not value.strip():
                raise _Fault("INVALID_PARAM", f"Invalid parameter for function: {field}")
        if not _EMAIL.match(email):
            raise _Fault("INVALID_PARAM", "Invalid parameter for function: EMAIL")
        with self.lock:
            client_id = params.get("CLIENT_ID")
            if client_id is not None:
                if int(client_id) not in self.clients:
                    raise _Fault("CLIENT_NOT_FOUND", f"Client with ID {client_id} not found in DB")
                client_id = int(client_id)
            else:
                client_id = self.next_id
                self.next_id += 1
            self.clients[client_id] = {"CLIENT_ID": client_id, "NAME": name, "EMAIL": email, "PHONE": phone}
            self._save()
        return [0, "SUCCESS", client_id]

    def find_client(self, params: dict[str, Any]) -> list:
        keys = {"ClientID": "CLIENT_ID", "Name": "NAME", "Email": "EMAIL", "Phone": "PHONE"}
        unknown = set(params) - set(keys)
        if unknown:
            raise _Fault("INVALID_PARAM", f"Invalid parameter for function: {sorted(unknown)[0]}")
        with self.lock:
            found = [
                dict(c) for c in self.clients.values() if all(str(c[keys[k]]) == str(v) for k, v in params.items())
            ]
        return [0, "SUCCESS", found]

    def link_integration_to_client(self, operator_uid: int, params: dict[str, Any]) -> list:
        client_id = params.get("ClientID")
        integration, configuration = params.get("IntegrationCC"), params.get("ConfigurationCC")
        if not integration or not configuration:
            raise _Fault("INVALID_PARAM", "Invalid parameter for function: IntegrationCC/ConfigurationCC")
        with self.lock:
            if client_id is None or int(client_id) not in self.clients:
                raise _Fault("CLIENT_NOT_FOUND", f"Client with ID {client_id} not found in DB")
            link = {"integration": integration, "configuration": configuration}
            links = self.links.setdefault(int(client_id), [])
            if link not in links:
                links.append(link)
                self._save()
        return [0, "SUCCESS"]

    def dispatch(self, method: str, params: tuple) -> list:
        handlers = {
            "Balance2.CreateClient": self.create_client,
            "Balance2.FindClient": self.find_client,
            "Balance2.LinkIntegrationToClient": self.link_integration_to_client,
        }
        handler = handlers.get(method)
        if handler is None:
            raise _Fault("METHOD_NOT_FOUND", f"Method {method} is not supported")
        try:
            return handler(*params)
        except TypeError as e:
            raise _Fault("INVALID_PARAM", f"Invalid parameters for {method}: {e}") from e


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("balance emulator: " + format, *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("the caller left before the answer (its timeout)")

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        state = self.server.state
        if url.path == "/health":
            self._json(200, {"status": "ok"})
        elif url.path == "/_emulator/calls":
            method = urllib.parse.parse_qs(url.query).get("method", [None])[0]
            with state.lock:
                calls = [c for c in state.calls if method is None or c["method"].endswith("." + method)]
            self._json(200, {"calls": calls})
        elif url.path == "/_emulator/clients":
            with state.lock:
                clients = [{**c, "links": state.links.get(cid, [])} for cid, c in sorted(state.clients.items())]
            self._json(200, {"clients": clients})
        else:
            self._json(404, {"error": "not found"})

    def do_DELETE(self) -> None:
        if self.path == "/_emulator/faults":
            with self.server.state.lock:
                self.server.state.faults.clear()
            self._json(200, {"faults": []})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = self._body()
        if self.path == "/_emulator/reset":
            self.server.state.reset()
            self._json(200, {"status": "reset"})
        elif self.path == "/_emulator/faults":
            self._add_fault(body)
        elif self.path in ("/xmlrpc", "/RPC2", "/"):
            self._xmlrpc(body)
        else:
            self._json(404, {"error": "not found"})

    def _add_fault(self, body: bytes) -> None:
        try:
            spec = json.loads(body or b"{}")
            rule = _FaultRule(
                kind=spec["kind"],
                remaining=int(spec.get("count", 1)),
                seconds=float(spec.get("seconds", 0)),
                method=("Balance2." + spec["method"]) if spec.get("method") else None,
            )
        except (ValueError, KeyError, TypeError) as e:
            self._json(400, {"error": f"bad fault spec: {e}"})
            return
        if rule.kind not in FAULT_KINDS or rule.remaining < 1:
            self._json(400, {"error": f"kind must be one of {FAULT_KINDS} and count >= 1"})
            return
        with self.server.state.lock:
            self.server.state.faults.append(rule)
        self._json(200, dataclasses.asdict(rule))

    def _xmlrpc(self, body: bytes) -> None:
        state = self.server.state
        try:
            params, method = xmlrpc.client.loads(body)
        except Exception:  # noqa: BLE001  (any unparsable body is the caller's error)
            self._send(400, b"malformed XML-RPC request", "text/plain")
            return
        method = method or ""
        rule = state.take_fault(method)
        if rule and rule.kind == "unavailable":
            state.log(method, params, "unavailable")
            self._send(503, b"Service Unavailable", "text/plain")
            return
        if rule and rule.kind == "error":
            state.log(method, params, "error")
            self._send(500, b"Internal Server Error", "text/plain")
            return
        if rule and rule.kind == "fault":
            state.log(method, params, "fault:INTERNAL_ERROR")
            self._respond(_Fault("INTERNAL_ERROR", "Error while processing request").as_xmlrpc())
            return
        if rule and rule.kind == "delay":
            time.sleep(rule.seconds)
        try:
            result = state.dispatch(method, params)
            outcome = "ok"
            response: Any = (result,)
        except _Fault as f:
            outcome = f"fault:{f.code}"
            response = f.as_xmlrpc()
        if rule and rule.kind == "commit_then_timeout":
            state.log(method, params, outcome + ":late")
            time.sleep(rule.seconds)
            self.close_connection = True
            return
        state.log(method, params, outcome)
        self._respond(response)

    def _respond(self, response: Any) -> None:
        if isinstance(response, xmlrpc.client.Fault):
            payload = xmlrpc.client.dumps(response, methodresponse=True)
        else:
            payload = xmlrpc.client.dumps(response, methodresponse=True, allow_none=True)
        self._send(200, payload.encode(), "text/xml")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: BalanceState) -> None:
        super().__init__(address, _Handler)
        self.state = state


class BalanceEmulator:
    """Run the emulator in a background thread (tests) or in the foreground (`billy emulate balance`)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, state_file: Path | None = None) -> None:
        self.state = BalanceState(state_file)
        self._server = _Server((host, port), self.state)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The XML-RPC endpoint to give billy as BALANCE_URL."""
        return self.base_url + "/xmlrpc"

    def start(self) -> BalanceEmulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="balance-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.state.state_file.flush()


class BalanceEmulatorControl:
    """Drives a running emulator's control API (tests, `billy dev`)."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=10)

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        return self._http.get("/_emulator/calls", params={"method": method} if method else None).json()["calls"]

    def clients(self) -> list[dict[str, Any]]:
        return self._http.get("/_emulator/clients").json()["clients"]

    def inject(self, kind: str, *, count: int = 1, seconds: float = 0, method: str | None = None) -> None:
        response = self._http.post(
            "/_emulator/faults", json={"kind": kind, "count": count, "seconds": seconds, "method": method}
        )
        response.raise_for_status()

    def clear_faults(self) -> None:
        self._http.delete("/_emulator/faults").raise_for_status()

    def reset(self) -> None:
        self._http.post("/_emulator/reset").raise_for_status()
