"""The API's one set of conventions (README, "Conventions"), each proved on the answers themselves:
timestamps, enum case, Idempotency-Key on every mutating call, metadata, UTF-8, Request-Id."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid

import httpx
import pytest

from billy.charges.models import Charge
from billy.core.logs import RequestIdFormatter, bind_request_id
from billy.events.models import Event
from billy.ledger.models import LedgerTransaction
from tests.api.conventions import assert_one_timestamp_format
from tests.charges.conftest import fund, make_client
from tests.conftest import make_api_key, read_feed_until, wait_for

WS = "/api/v1/workspaces/c2b"
UPPER = re.compile(r"[A-Z][A-Z0-9_]*")


class Http:
    """Django's test client with a key, JSON bodies and headers by their HTTP names."""

    def __init__(self, client, key):
        self.client, self.key = client, key

    def __call__(self, method, path, body=None, **headers):
        extra = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"}
        extra |= {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
        if body is not None or method in ("post", "put"):
            extra |= {"data": json.dumps({} if body is None else body), "content_type": "application/json"}
        return getattr(self.client, method)(WS + path, **extra)


@pytest.fixture
def http(client, workspace):
    return Http(client, make_api_key("c2b"))


@pytest.fixture
def operator(client, workspace):
    return Http(client, make_api_key("c2b", role="OPERATOR"))


@pytest.fixture
def funded(workspace):
    client = make_client(workspace)
    fund(client, 1000_00)
    return client


# -- timestamps ------------------------------------------------------------------------------------


def test_every_money_resource_and_event_writes_timestamps_one_way(http, operator, funded):
    answers = [
        operator(
            "post", "/clients/client-1/wallet/adjustments", {"adjustment_id": "a-1", "amount": "1.00", "reason": "r"}
        ),
        http("post", "/clients/client-1/charges", {"charge_id": "c-1", "product": "p", "amount": "5.00"}),
        http("post", "/clients/client-1/charges", {"charge_id": "h-1", "product": "p", "amount": "5.00", "hold": True}),
        http("post", "/clients/client-1/charges", {"charge_id": "h-2", "product": "p", "amount": "5.00", "hold": True}),
        http("post", "/charges/h-1/confirm", {"amount": "4.00"}),
        http("post", "/charges/h-2/cancel"),
        http("post", "/charges/c-1/refunds", {"refund_id": "r-1", "amount": "1.00"}),
        http(
            "post",
            "/charges:batch",
            {"charges": [{"service_client_id": "client-1", "charge_id": "b-1", "product": "p", "amount": "1.00"}]},
        ),
    ]
    read_feed_until(funded.workspace_id, after=None, count=9)
    answers += [
        http("get", "/charges/c-1"),
        http("get", "/charges"),
        http("get", "/clients/client-1/charges"),
        http("get", "/clients/client-1/wallet/transactions"),
        http("get", "/clients/client-1"),
        http("get", "/clients"),
        http("get", "/events"),
    ]
    assert all(a.status_code in (200, 201) for a in answers), [a.content for a in answers if a.status_code >= 300]

    seen = assert_one_timestamp_format(*answers)

    assert {
        ".created_at",
        ".updated_at",
        ".hold_expires_at",
        ".refunds[].created_at",
        ".charges[].created_at",
        ".transactions[].created_at",
        ".clients[].created_at",
        ".results[].charge.created_at",
        ".events[].created_at",
        ".events[].at",
        ".events[].expires_at",
    } <= seen
    types = {e["type"] for e in answers[-1].json()["events"]}
    assert types == {
        "wallet.adjusted",
        "charge.completed",
        "charge.held",
        "charge.confirmed",
        "charge.cancelled",
        "charge.refunded",
    }


def test_a_timestamp_has_six_fractional_digits_even_on_a_whole_second(http, funded):
    charge = Charge.objects.create(
        workspace_id=funded.workspace_id,
        charge_id="whole",
        client=funded,
        wallet_id=funded.wallet.pk,
        product="p",
        amount=1,
        currency="RUB",
        hold=True,
        status=Charge.Status.CANCELLED,
        request={},
        created_at=dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC),
        updated_at=dt.datetime(2026, 11, 23, 15, 0, 0, 500_000, tzinfo=dt.timezone(dt.timedelta(hours=3))),
    )

    body = http("get", f"/charges/{charge.charge_id}").json()

    assert (body["created_at"], body["updated_at"]) == ("2026-11-23T12:00:00.000000Z", "2026-11-23T12:00:00.500000Z")


# -- enum case -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/clients/client-1/charges?status=held", ["HELD", "COMPLETED", "CANCELLED"]),
        ("/charges?status=Completed", ["HELD", "COMPLETED", "CANCELLED"]),
        ("/charges?status=REFUNDED", ["HELD", "COMPLETED", "CANCELLED"]),
        ("/clients?status=active", ["PENDING", "ACTIVE", "NEEDS_ATTENTION"]),
    ],
)
def test_a_status_in_the_wrong_case_or_unknown_is_422_naming_the_values(http, funded, path, allowed):
    answer = http("get", path)

    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "validation_failed")
    message = " ".join(answer.json()["error"]["details"]["fields"]["status"])
    assert all(value in message for value in allowed), message


def test_every_enum_the_api_declares_is_upper_case(client):
    document = client.get("/api/v1/openapi.json").json()
    enums = []

    def walk(node):
        if isinstance(node, dict):
            enums.extend(node.get("enum", []))
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    # Error codes are identifiers in lower snake case (`insufficient_funds`), like event types names;
    # an event's `version` is a number.
    error_codes = document["components"]["schemas"].pop("ErrorCode")["enum"]
    walk(document)
    assert error_codes and all(re.fullmatch(r"[a-z]+(_[a-z]+)*", c) for c in error_codes)
    enums = [v for v in enums if not isinstance(v, int)]

    assert {"HELD", "COMPLETED", "CANCELLED", "PENDING", "ACTIVE", "NEEDS_ATTENTION"} <= set(enums)
    # Event types are names from the event registry (`charge.completed`), dotted lower case everywhere.
    from billy.events.registry import EVENT_TYPES

    values = [v for v in enums if v not in EVENT_TYPES]
    assert [v for v in values if not (isinstance(v, str) and UPPER.fullmatch(v))] == []


def test_the_values_answers_carry_are_upper_case(http, funded):
    http("post", "/clients/client-1/charges", {"charge_id": "h-1", "product": "p", "amount": "5.00", "hold": True})
    cancelled = http("post", "/charges/h-1/cancel").json()
    history = http("get", "/clients/client-1/wallet/transactions").json()["transactions"]

    assert (cancelled["status"], cancelled["cancel_reason"]) == ("CANCELLED", "REQUESTED")
    assert [t["kind"] for t in history] == ["ADJUSTMENT"]


# -- Idempotency-Key -------------------------------------------------------------------------------

HOLD = {"charge_id": "c-1", "product": "p", "amount": "30.00", "hold": True}


def test_a_charge_replayed_with_its_key_answers_the_first_answer(http, funded):
    first = http("post", "/clients/client-1/charges", HOLD, idempotency_key="k-1")
    http("post", "/charges/c-1/cancel")

    replay = http("post", "/clients/client-1/charges", HOLD, idempotency_key="k-1")
    without_key = http("post", "/clients/client-1/charges", HOLD)

    assert (first.status_code, first.json()["status"]) == (201, "HELD")
    assert (replay.status_code, replay.json()) == (201, first.json())
    assert (without_key.status_code, without_key.json()["status"]) == (200, "CANCELLED")  # the charge as it is now


@pytest.mark.parametrize("other", [{"amount": "31.00"}, {"charge_id": "c-2"}, {"metadata": {"a": "b"}}])
def test_a_charge_key_with_another_body_is_409_and_moves_nothing(http, funded, other):
    http("post", "/clients/client-1/charges", HOLD, idempotency_key="k-1")
    wallet = http("get", "/clients/client-1/wallet").json()

    conflict = http("post", "/clients/client-1/charges", HOLD | other, idempotency_key="k-1")

    assert (conflict.status_code, conflict.json()["error"]["code"]) == (409, "idempotency_conflict")
    assert http("get", "/clients/client-1/wallet").json() == wallet
    assert list(Charge.objects.values_list("charge_id", flat=True)) == ["c-1"]


def test_a_malformed_key_is_422(http, funded):
    answer = http("post", "/clients/client-1/charges", HOLD, idempotency_key="x" * 256)

    assert (answer.status_code, list(answer.json()["error"]["details"]["fields"])) == (422, ["Idempotency-Key"])
    assert Charge.objects.count() == 0


def _mutating_calls(http, operator):
    """Every mutating call (its first request, then the same key's other request): one per route."""
    http("post", "/clients/client-1/charges", {"charge_id": "done", "product": "p", "amount": "9.00"})
    http("post", "/clients/client-1/charges", {"charge_id": "held", "product": "p", "amount": "9.00", "hold": True})
    item = {"service_client_id": "client-1", "product": "p", "amount": "1.00"}
    return {
        "put client": (
            lambda body: http("put", "/clients/client-1", body, idempotency_key="k"),
            {"name": "ООО Ромашка", "email": "info@romashka.ru", "phone": "+74951234567"},
            {"name": "ООО Лютик", "email": "info@romashka.ru", "phone": "+74951234567"},
        ),
        "adjust": (
            lambda body: operator("post", "/clients/client-1/wallet/adjustments", body, idempotency_key="k"),
            {"adjustment_id": "a-1", "amount": "1.00", "reason": "r"},
            {"adjustment_id": "a-2", "amount": "1.00", "reason": "r"},
        ),
        "confirm": (
            lambda body: http("post", "/charges/held/confirm", body, idempotency_key="k"),
            {"amount": "2.00"},
            {"amount": "3.00"},
        ),
        "cancel": (
            lambda charge_id: http("post", f"/charges/{charge_id}/cancel", idempotency_key="k"),
            "held",
            "done",
        ),
        "refund": (
            lambda body: http("post", "/charges/done/refunds", body, idempotency_key="k"),
            {"refund_id": "r-1", "amount": "1.00"},
            {"refund_id": "r-2", "amount": "1.00"},
        ),
        "batch": (
            lambda body: http("post", "/charges:batch", body, idempotency_key="k"),
            {"charges": [item | {"charge_id": "b-1"}]},
            {"charges": [item | {"charge_id": "b-2"}]},
        ),
    }


@pytest.mark.parametrize("call", ["put client", "adjust", "confirm", "cancel", "refund", "batch"])
def test_every_mutating_call_replays_its_key_and_refuses_it_with_another_request(
    http, operator, funded, balance_control, settings, call
):
    send, body, other = _mutating_calls(http, operator)[call]
    first = send(body)
    counts = (LedgerTransaction.objects.count(), Event.objects.count(), len(balance_control.calls()))

    replay = send(body)
    conflict = send(other)

    assert first.status_code in (200, 201, 202), first.content
    assert (replay.status_code, replay.json()) == (first.status_code, first.json())
    assert (conflict.status_code, conflict.json()["error"]["code"]) == (409, "idempotency_conflict")
    assert (LedgerTransaction.objects.count(), Event.objects.count(), len(balance_control.calls())) == counts


# -- metadata --------------------------------------------------------------------------------------


def test_metadata_is_kept_and_shown_in_the_charge_its_lists_its_batch_and_its_events(http, funded):
    metadata = {"order_id": "42", "канал": "витрина"}
    created = http("post", "/clients/client-1/charges", HOLD | {"metadata": metadata})
    batch = http(
        "post",
        "/charges:batch",
        {
            "charges": [
                {
                    "service_client_id": "client-1",
                    "charge_id": "b-1",
                    "product": "p",
                    "amount": "1.00",
                    "metadata": {"batch": "yes"},
                }
            ]
        },
    )
    http("post", "/charges/c-1/confirm")
    events, _ = read_feed_until(funded.workspace_id, after=None, count=4)

    assert created.json()["metadata"] == metadata
    assert batch.json()["results"][0]["charge"]["metadata"] == {"batch": "yes"}
    assert http("get", "/charges/c-1").json()["metadata"] == metadata
    assert [c["metadata"] for c in http("get", "/charges").json()["charges"]] == [{"batch": "yes"}, metadata]
    assert [c["metadata"] for c in http("get", "/clients/client-1/charges").json()["charges"]] == [
        {"batch": "yes"},
        metadata,
    ]
    assert [(e.type, e.data["metadata"]) for e in events if e.type.startswith("charge.")] == [
        ("charge.held", metadata),
        ("charge.completed", {"batch": "yes"}),
        ("charge.confirmed", metadata),
    ]


def test_metadata_at_the_limits_is_taken(http, funded):
    metadata = {f"{i:02d}" + "k" * 38: "v" * 500 for i in range(50)}

    answer = http("post", "/clients/client-1/charges", HOLD | {"metadata": metadata})

    assert (answer.status_code, answer.json()["metadata"]) == (201, metadata)


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ({f"k{i}": "v" for i in range(51)}, "metadata"),
        ({"k" * 41: "v"}, "metadata"),
        ({"": "v"}, "metadata"),
        ({"k": "v" * 501}, "metadata"),
        ({"k": "a\x00b"}, "metadata"),
        ({"k": 1}, "metadata.k"),
        ({"k": {"nested": "x"}}, "metadata.k"),
        ({"k": None}, "metadata.k"),
        (["k", "v"], "metadata"),
        (None, "metadata"),
    ],
    ids=[
        "51 keys",
        "long key",
        "empty key",
        "long value",
        "control character",
        "number",
        "object",
        "null value",
        "array",
        "null",
    ],
)
def test_metadata_beyond_the_limits_is_422_naming_the_field_and_writes_nothing(http, funded, metadata, field):
    single = http("post", "/clients/client-1/charges", HOLD | {"metadata": metadata})
    batch = http(
        "post",
        "/charges:batch",
        {
            "charges": [
                {
                    "service_client_id": "client-1",
                    "charge_id": "b-1",
                    "product": "p",
                    "amount": "1.00",
                    "metadata": metadata,
                }
            ]
        },
    )

    assert (single.status_code, single.json()["error"]["code"]) == (422, "validation_failed")
    assert field in single.json()["error"]["details"]["fields"]
    batch_error = batch.json()["error"] if batch.status_code == 422 else batch.json()["results"][0]["error"]
    assert batch_error["code"] == "validation_failed"
    assert any("metadata" in name for name in batch_error["details"]["fields"])
    assert Charge.objects.count() == 0


# -- UTF-8 -----------------------------------------------------------------------------------------


def test_answers_are_utf8_without_escapes(http, funded):
    http("post", "/clients/client-1/charges", {"charge_id": "c-1", "product": "Размещение", "amount": "1.00"})
    batch = http(
        "post",
        "/charges:batch",
        {"charges": [{"service_client_id": "client-1", "charge_id": "c-2", "product": "Поднятие", "amount": "1.00"}]},
    )
    answers = {
        "client": http("get", "/clients/client-1"),
        "list": http("get", "/charges"),
        "batch": batch,
        "error": http("get", "/clients/клиент"),
    }

    for name, answer in answers.items():
        assert answer["Content-Type"] == "application/json; charset=utf-8", name
        assert b"\\u" not in answer.content, name
    assert "ООО Ромашка".encode() in answers["client"].content
    assert "Размещение".encode() in answers["list"].content
    assert "Поднятие".encode() in answers["batch"].content
    assert "клиент".encode() in answers["error"].content


# -- Request-Id ------------------------------------------------------------------------------------


def test_every_answer_carries_a_request_id_of_its_own(http, client, funded):
    first, second = http("get", "/clients/client-1"), http("get", "/clients/client-1")
    health, admin = client.get("/health"), client.get("/admin/login/")

    ids = [a["Request-Id"] for a in (first, second, health, admin)]
    assert all(uuid.UUID(i) for i in ids)
    assert len(set(ids)) == 4


@pytest.mark.parametrize("header", ["Request-Id", "X-Request-Id"])
def test_a_sane_request_id_is_taken_and_named_in_the_error_envelope(http, funded, header):
    answer = http("get", "/charges/nothing", **{header: "edge-7f3a:42"})

    assert answer["Request-Id"] == "edge-7f3a:42"
    assert answer.json()["error"]["request_id"] == "edge-7f3a:42"


@pytest.mark.parametrize("given", ["x" * 129, "has space", 'bad"quote', "-leading", "кириллица"])
def test_an_insane_request_id_is_replaced(http, funded, given):
    answer = http("get", "/clients/client-1", request_id=given.encode().decode("latin-1"))

    assert answer["Request-Id"] != given
    assert uuid.UUID(answer["Request-Id"])


def test_a_log_line_names_the_request_it_was_written_for():
    formatter = RequestIdFormatter("%(levelname)s %(name)s: %(message)s")
    record = logging.LogRecord("billy.test", logging.WARNING, __file__, 1, "it failed", None, None)

    bind_request_id("req-1")
    during = formatter.format(record)
    bind_request_id(None)
    after = formatter.format(record)

    assert (during, after) == ("WARNING billy.test: it failed request_id=req-1", "WARNING billy.test: it failed")


def test_the_servers_log_lines_of_a_request_carry_its_id(live_billy, balance_control, workspace):
    key = make_api_key("c2b")
    balance_control.inject("unavailable", count=1, method="CreateClient")
    request_id = f"conv-{uuid.uuid4()}"

    answer = httpx.put(
        f"{live_billy.url}{WS}/clients/client-logged",
        json={"name": "ООО Ромашка", "email": "info@romashka.ru", "phone": "+74951234567"},
        headers={"Authorization": f"Bearer {key}", "Request-Id": request_id},
        timeout=30,
    )

    assert (answer.status_code, answer.headers["Request-Id"]) == (503, request_id)
    assert answer.json()["error"]["request_id"] == request_id
    line = wait_for(
        lambda: next((x for x in live_billy.log.read_text().splitlines() if "client-logged failed" in x), None)
    )
    assert line.endswith(f"request_id={request_id}"), line
