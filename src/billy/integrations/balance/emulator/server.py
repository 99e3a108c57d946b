"""The emulator's HTTP face: XML-RPC at `/xmlrpc` with the queued faults, the control API under
`/_emulator/`, and the hosted invoice page at `/invoices/<id>`."""

from __future__ import annotations

import html
import json
import logging
import time
import urllib.parse
import xmlrpc.client
from http.server import ThreadingHTTPServer
from typing import Any

from billy.core.money import format_amount
from billy.integrations.balance import wire
from billy.integrations.emulation import EmulatorHandler

from . import books, control, methods
from .state import API_FAULTS, BalanceState, Fault

logger = logging.getLogger(__name__)


class _Handler(EmulatorHandler):
    server: Server

    def emulator_name(self) -> str:
        return "balance"

    @property
    def state(self) -> BalanceState:
        return self.server.state

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/health":
            self._json(200, {"status": "ok"})
        elif url.path.startswith("/_emulator/"):
            self._control(lambda: control.read(self.state, url.path.removeprefix("/_emulator/"), _query(url)))
        elif url.path.startswith("/invoices/"):
            self._invoice_page(url.path.removeprefix("/invoices/"), None)
        else:
            self._json(404, {"error": "not found"})

    def do_DELETE(self) -> None:
        if self.path == "/_emulator/faults":
            with self.state.lock:
                self.state.faults.clear()
            self._json(200, {"faults": []})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = self._body()
        path = urllib.parse.urlsplit(self.path).path
        if path in ("/xmlrpc", "/RPC2", "/"):
            self._xmlrpc(body)
        elif path.startswith("/_emulator/"):
            self._control(lambda: control.act(self.state, path.removeprefix("/_emulator/"), _spec(body)))
        elif path.startswith("/invoices/") and path.endswith("/pay"):
            self._invoice_page(path.removeprefix("/invoices/").removesuffix("/pay"), body)
        else:
            self._json(404, {"error": "not found"})

    def _control(self, answer) -> None:
        try:
            self._json(200, answer())
        except control.ControlError as e:
            self._json(e.status, {"error": str(e)})

    # -- XML-RPC -------------------------------------------------------------------------------------
    def _xmlrpc(self, body: bytes) -> None:
        state = self.state
        try:
            params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        except Exception:  # noqa: BLE001  (any unparsable body is the caller's error)
            self._send(400, b"malformed XML-RPC request", "text/plain")
            return
        method = method or ""
        rule = state.take_fault(API_FAULTS, method)
        kind = rule.kind if rule else None
        if kind == "unavailable":
            state.log(method, params, "unavailable")
            self._send(503, b"Service Unavailable", "text/plain")
            return
        if kind == "error":
            state.log(method, params, "error")
            self._send(500, b"Internal Server Error", "text/plain")
            return
        if kind == "fault":
            state.log(method, params, f"fault:{rule.code}")
            self._respond(Fault(rule.code, "Error while processing request").as_xmlrpc())
            return
        if kind == "delay":
            time.sleep(rule.seconds)
        try:
            response: Any = (methods.dispatch(state, method, params),)
            outcome = "ok"
        except Fault as f:
            outcome = f"fault:{f.code}"
            response = f.as_xmlrpc()
        if kind == "commit_then_timeout":
            state.log(method, params, outcome + ":late")
            time.sleep(rule.seconds)
            self.close_connection = True
            return
        state.log(method, params, outcome)
        self._respond(response)

    def _respond(self, response: Any) -> None:
        payload = xmlrpc.client.dumps(response, methodresponse=True, allow_none=True)
        self._send(200, payload.encode(), "text/xml")

    # -- the hosted invoice page ---------------------------------------------------------------------
    def _invoice_page(self, key: str, form: bytes | None) -> None:
        """GET shows the invoice and a form; POST pays `amount` (in part or the rest) and goes back."""
        state = self.state
        with state.lock:
            invoice = state.table("invoices").get(int(key)) if key.isdigit() else None
            if invoice is None:
                self._send(404, _page("Invoice not found", "<p>No such invoice.</p>"), "text/html; charset=utf-8")
                return
            error = None
            if form is not None:
                fields = urllib.parse.parse_qs(form.decode(errors="replace"))
                try:
                    amount = wire.parse_money((fields.get("amount") or [""])[0].strip().replace(",", "."))
                    books.pay_invoice(state, invoice, amount)
                except (wire.WireError, Fault) as e:
                    error = e.msg if isinstance(e, Fault) else str(e).split(": ", 1)[-1]
                else:
                    self._send(303, b"", "text/plain", {"Location": f"/invoices/{invoice['InvoiceID']}"})
                    return
            page = _invoice_html(invoice, error)
        self._send(422 if error else 200, page, "text/html; charset=utf-8")


def _query(url: urllib.parse.SplitResult) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(url.query))


def _spec(body: bytes) -> dict[str, Any]:
    try:
        spec = json.loads(body or b"{}")
    except ValueError as e:
        raise control.ControlError(400, f"the body is not JSON: {e}") from e
    return spec if isinstance(spec, dict) else {}


def _page(title: str, content: str) -> bytes:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{content}</body></html>"
    ).encode()


def _invoice_html(invoice: dict[str, Any], error: str | None) -> bytes:
    left = invoice["Amount"] - invoice["PaidAmount"]
    status = books.invoice_status(invoice)
    kind = "Credit invoice" if invoice["Kind"] == "credit" else "Invoice"
    rows = "".join(
        f"<tr><th>{label}</th><td id='{ident}'>{html.escape(value)}</td></tr>"
        for label, ident, value in (
            ("Amount", "amount", f"{format_amount(invoice['Amount'])} {invoice['Currency']}"),
            ("Paid", "paid", f"{format_amount(invoice['PaidAmount'])} {invoice['Currency']}"),
            ("Left to pay", "left", f"{format_amount(left)} {invoice['Currency']}"),
            ("Status", "status", status),
        )
    )
    content = f"<h1>{kind} {html.escape(invoice['ExternalID'])}</h1><table>{rows}</table>"
    if error:
        content += f'<p id="error" role="alert">{html.escape(error)}</p>'
    if left > 0:
        content += (
            f'<form method="post" action="/invoices/{invoice["InvoiceID"]}/pay">'
            f'<label>Amount to pay <input id="amount-input" name="amount" value="{format_amount(left)}" '
            'inputmode="decimal" required></label> '
            '<button id="pay" type="submit">Pay</button></form>'
        )
    else:
        content += '<p id="done">Paid in full.</p>'
    return _page(f"{kind} {invoice['ExternalID']}", content)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: BalanceState) -> None:
        super().__init__(address, _Handler)
        self.state = state
