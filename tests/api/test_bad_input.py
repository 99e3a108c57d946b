"""Every bad HTTP input is a 4xx in the error envelope with its stable code, and stores nothing.

Each request goes over a real socket to `billy serve` (gunicorn, as in production), written byte
by byte, so what the HTTP server refuses itself (request line, headers) is tested with the rest.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import socket
import urllib.parse

import pytest
from django.conf import settings

from billy.charges.models import Charge, Refund
from billy.clients.models import Client
from billy.events.models import Event
from billy.ledger.models import Adjustment, Entry, LedgerTransaction
from tests.charges.conftest import fund, make_client
from tests.conftest import make_api_key

WS = "/api/v1/workspaces/c2b"
CHARGES = WS + "/clients/client-1/charges"


def charge(**overrides) -> dict:
    return {"charge_id": "ch-1", "product": "placement", "amount": "30.00", **overrides}


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def error(self) -> dict:
        return json.loads(self.body)["error"]


def send(url: str, head: bytes, body: bytes = b"") -> Answer:
    """Send one request as these exact bytes and read the answer."""
    address = urllib.parse.urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=60) as sock:
        sock.sendall(head + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return Answer(response.status, response.headers, response.read())


def request(
    method: str,
    path: str,
    *,
    key: str,
    body: bytes | None = None,
    content_type: str | None = "application/json",
    chunked: bool = False,
    extra: list[bytes] = (),
) -> tuple[bytes, bytes]:
    """The bytes of an HTTP/1.1 request: (head, body)."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: billy", f"Authorization: Bearer {key}".encode()]
    if body is not None and content_type is not None:
        lines.append(f"Content-Type: {content_type}".encode())
    if body is not None and chunked:
        lines.append(b"Transfer-Encoding: chunked")
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    elif body is not None:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join([*lines, *extra, b"", b""]), body or b""


def post_json(path: str, data, **kwargs):
    return lambda key: request("POST", path, key=key, body=json.dumps(data).encode(), **kwargs)


def post_raw(path: str, body: bytes, **kwargs):
    return lambda key: request("POST", path, key=key, body=body, **kwargs)


def get(path: str, **kwargs):
    return lambda key: request("GET", path, key=key, **kwargs)


OVER_LIMIT = (
    b'{"charge_id": "big", "product": "p", "amount": "1.00", "description": "'
    + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    + b'"}'
)

# (id, the request given an API key, operator key?, status, code)
CASES = [
    # Consumer-chosen ids: URL-safe, 1..128, checked where they are created.
    ("charge_id with a slash", post_json(CHARGES, charge(charge_id="a/b")), False, 422, "validation_failed"),
    ("hold with a slash", post_json(CHARGES, charge(charge_id="a/b", hold=True)), False, 422, "validation_failed"),
    ("charge_id ..", post_json(CHARGES, charge(charge_id="..")), False, 422, "validation_failed"),
    ("charge_id with a space", post_json(CHARGES, charge(charge_id="a b")), False, 422, "validation_failed"),
    ("charge_id not ASCII", post_json(CHARGES, charge(charge_id="счёт-1")), False, 422, "validation_failed"),
    ("charge_id 129 long", post_json(CHARGES, charge(charge_id="c" * 129)), False, 422, "validation_failed"),
    ("charge_id empty", post_json(CHARGES, charge(charge_id="")), False, 422, "validation_failed"),
    (
        "refund_id with %",
        post_json(WS + "/charges/ch-0/refunds", {"refund_id": "r%1"}),
        False,
        422,
        "validation_failed",
    ),
    (
        "adjustment_id with a slash",
        post_json(
            WS + "/clients/client-1/wallet/adjustments", {"adjustment_id": "a/b", "amount": "1.00", "reason": "r"}
        ),
        True,
        422,
        "validation_failed",
    ),
    # Money: a decimal string, anchored at its true end.
    ("amount with a trailing newline", post_json(CHARGES, charge(amount="1.00\n")), False, 422, "validation_failed"),
    ("amount as a JSON number", post_json(CHARGES, charge(amount=1.0)), False, 422, "validation_failed"),
    ("amount zero", post_json(CHARGES, charge(amount="0.00")), False, 422, "validation_failed"),
    # No coercion.
    ('hold "true"', post_json(CHARGES, charge(hold="true")), False, 422, "validation_failed"),
    ("hold 1", post_json(CHARGES, charge(hold=1)), False, 422, "validation_failed"),
    (
        'hold_ttl_seconds "60"',
        post_json(CHARGES, charge(hold=True, hold_ttl_seconds="60")),
        False,
        422,
        "validation_failed",
    ),
    ('currency ""', post_json(CHARGES, charge(currency="")), False, 422, "validation_failed"),
    (
        "client name 1",
        lambda key: request(
            "PUT", WS + "/clients/client-2", key=key, body=b'{"name": 1, "email": "a@b.ru", "phone": "+74951234567"}'
        ),
        False,
        422,
        "validation_failed",
    ),
    (
        "plan as a number",
        post_json(WS + "/users/u-1/subscriptions", {"plan": 1, "return_url": "https://cinema.example/back"}),
        False,
        422,
        "validation_failed",
    ),
    (
        "confirm amount with a newline",
        post_json(WS + "/charges/ch-0/confirm", {"amount": "1.00\n"}),
        False,
        422,
        "validation_failed",
    ),
    (
        "refund amount 1",
        post_json(WS + "/charges/ch-0/refunds", {"refund_id": "r-1", "amount": 1}),
        False,
        422,
        "validation_failed",
    ),
    # Strict JSON.
    (
        "Content-Type text/plain",
        post_json(CHARGES, charge(), content_type="text/plain"),
        False,
        415,
        "unsupported_media_type",
    ),
    (
        "Content-Type form",
        post_json(CHARGES, charge(), content_type="application/x-www-form-urlencoded"),
        False,
        415,
        "unsupported_media_type",
    ),
    (
        "charset latin-1",
        post_json(CHARGES, charge(), content_type="application/json; charset=latin-1"),
        False,
        415,
        "unsupported_media_type",
    ),
    ("no Content-Type", post_json(CHARGES, charge(), content_type=None), False, 415, "unsupported_media_type"),
    (
        "body on a call without one",
        post_json(WS + "/charges/ch-0/cancel", {}, content_type="text/plain"),
        False,
        415,
        "unsupported_media_type",
    ),
    (
        "duplicate key",
        post_raw(CHARGES, b'{"charge_id": "ch-1", "product": "p", "amount": "1.00", "amount": "2.00"}'),
        False,
        400,
        "bad_request",
    ),
    (
        "nested duplicate key",
        post_raw(WS + "/charges:batch", b'{"charges": [{"charge_id": "a", "charge_id": "b"}]}'),
        False,
        400,
        "bad_request",
    ),
    ("not JSON", post_raw(CHARGES, b"charge_id=ch-1"), False, 400, "bad_request"),
    (
        "not UTF-8",
        post_raw(CHARGES, b'{"charge_id": "\xff", "product": "p", "amount": "1.00"}'),
        False,
        400,
        "bad_request",
    ),
    ("NaN", post_raw(CHARGES, b'{"charge_id": "ch-1", "product": "p", "amount": NaN}'), False, 400, "bad_request"),
    ("two documents", post_raw(CHARGES, json.dumps(charge()).encode() * 2), False, 400, "bad_request"),
    ("chunked, not JSON", post_raw(CHARGES, b"{", chunked=True), False, 400, "bad_request"),
    ("body over the limit", post_raw(CHARGES, OVER_LIMIT), False, 413, "payload_too_large"),
    ("chunked body over the limit", post_raw(CHARGES, OVER_LIMIT, chunked=True), False, 413, "payload_too_large"),
    # Control characters in any query parameter.
    ("NUL in the product filter", get(CHARGES + "?product=a%00b"), False, 422, "validation_failed"),
    ("escape in the cursor", get(CHARGES + "?cursor=%1b"), False, 422, "validation_failed"),
    ("control character in a parameter name", get(CHARGES + "?a%01=1"), False, 422, "validation_failed"),
    ("NUL in the events cursor", get(WS + "/events?after=%00"), False, 422, "validation_failed"),
    ("page size over the limit", get(CHARGES + "?limit=501"), False, 422, "validation_failed"),
    # What gunicorn refuses before billy sees the request.
    ("request line too long", get(CHARGES + "?product=" + "p" * 5000), False, 414, "uri_too_long"),
    ("header too large", get(CHARGES, extra=[b"X-Big: " + b"h" * 9000]), False, 431, "headers_too_large"),
    ("too many headers", get(CHARGES, extra=[b"X-H%d: 1" % i for i in range(101)]), False, 431, "headers_too_large"),
    ("control byte in a header", get(CHARGES, extra=[b"X-Bad: a\x00b"]), False, 400, "bad_request"),
    ("bad header name", get(CHARGES, extra=[b"X(Bad): 1"]), False, 400, "bad_request"),
]


def stored() -> dict[str, int]:
    models = (Charge, Refund, Adjustment, LedgerTransaction, Entry, Event, Client)
    return {m.__name__: m.objects.count() for m in models}


@pytest.fixture
def funded(workspace):
    fund(make_client(workspace), 100_00)


@pytest.mark.parametrize(("build", "operator", "status", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_4xx_in_the_envelope_and_stores_nothing(live_billy, funded, build, operator, status, code):
    key = make_api_key("c2b", role="OPERATOR" if operator else "SERVICE")
    before = stored()

    answer = send(live_billy.url, *build(key))

    assert (answer.status, answer.headers.get_content_type()) == (status, "application/json"), answer.body[:500]
    error = answer.error()
    assert (error["code"], type(error["message"]), type(error["details"])) == (code, str, dict)
    assert stored() == before


def test_a_batch_item_with_an_empty_client_id_is_422_and_stores_nothing(live_billy, funded):
    key = make_api_key("c2b")
    before = stored()

    answer = send(live_billy.url, *post_json(WS + "/charges:batch", {"charges": [charge(service_client_id="")]})(key))

    result = json.loads(answer.body)["results"][0]
    assert (answer.status, result["status"], result["error"]["code"]) == (200, 422, "validation_failed")
    assert list(result["error"]["details"]["fields"]) == ["service_client_id"]
    assert stored() == before


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
def test_a_chunked_json_body_is_read(live_billy, funded, content_type):
    key = make_api_key("c2b")

    answer = send(live_billy.url, *post_json(CHARGES, charge(), chunked=True, content_type=content_type)(key))

    assert answer.status == 201, answer.body[:500]
    assert Charge.objects.get().charge_id == "ch-1"


def test_every_character_an_id_may_hold_is_reachable_again(live_billy, funded):
    key = make_api_key("c2b")
    charge_id = "Az09._~-" + "x" * 120  # every kind of character, at the longest

    created = send(live_billy.url, *post_json(CHARGES, charge(charge_id=charge_id, hold=True))(key))
    cancelled = send(live_billy.url, *post_json(f"{WS}/charges/{charge_id}/cancel", {})(key))

    assert (created.status, cancelled.status, json.loads(cancelled.body)["status"]) == (201, 200, "CANCELLED")


def test_the_openapi_document_declares_the_limits_and_the_refusals(client, db):
    document = client.get("/api/v1/openapi.json").json()
    create = document["paths"]["/api/v1/workspaces/{workspace}/clients/{service_client_id}/charges"]["post"]
    listing = document["paths"]["/api/v1/workspaces/{workspace}/clients/{service_client_id}/charges"]["get"]
    body = document["components"]["schemas"]["ChargeIn"]["properties"]
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")["schema"]

    assert {"400", "413", "415", "422"} <= set(create["responses"])
    assert "422" in listing["responses"]
    assert (limit["minimum"], limit["maximum"]) == (1, 500)
    assert (body["charge_id"]["pattern"], body["charge_id"]["maxLength"]) == (
        "^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$",
        128,
    )
    assert body["amount"]["pattern"] == "^(0\\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,11}(\\.[0-9]{1,2})?)$"
    assert body["currency"]["pattern"] == "^[A-Z]{3}$"
    assert (body["hold_ttl_seconds"]["minimum"], body["hold_ttl_seconds"]["maximum"]) == (
        60,
        90 * 24 * 3600,
    )
