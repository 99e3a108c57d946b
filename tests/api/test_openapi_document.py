"""The OpenAPI documents as a generator and a reader need them: names, tags, headers, errors, types."""

from __future__ import annotations

import re

import pytest

from billy.api.http.api import api
from billy.core.errors import ERROR_CODES
from billy.events.registry import EVENT_TYPES


@pytest.fixture(scope="module")
def product():
    return api.get_openapi_schema()


@pytest.fixture(scope="module")
def callbacks():
    return api.get_callbacks_schema()


def _operations(document):
    for path, item in document["paths"].items():
        for method, spec in item.items():
            yield path, method, spec


def test_operation_ids_are_verb_and_resource_and_unique(product, callbacks):
    ids = [spec["operationId"] for doc in (product, callbacks) for _, _, spec in _operations(doc)]
    assert len(ids) == len(set(ids))
    verbs = ("get_", "list_", "create_", "put_", "update_", "delete_", "confirm_", "cancel_", "refund_", "rotate_")
    verbs += ("replay_", "receive_", "add_", "remove_", "leave_", "check_", "clear_", "resume_")
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)+", i) and i.startswith(verbs) for i in ids), ids
    assert {"create_charge", "list_client_charges", "get_wallet", "list_events", "create_refund"} <= set(ids)


def test_operations_are_tagged_by_resource(product):
    tags = {tag for _, _, spec in _operations(product) for tag in spec["tags"]}
    assert tags == {"clients", "wallets", "charges", "events", "plans", "subscriptions", "webhook endpoints"} | {
        "families",
        "family spendings",
        "payment methods",
        "payers",
        "contracts",
        "invoices",
        "acts",
        "reconciliations",
    }


def test_callbacks_are_in_their_own_document(product, callbacks):
    assert not any("providers" in path or "balance/notifications" in path for path in product["paths"])
    assert [spec["operationId"] for _, _, spec in _operations(callbacks)] == [
        "receive_yookassa_notification",
        "receive_balance_notification",
    ]


def test_every_mutating_call_declares_idempotency_key_and_every_answer_request_id(product):
    for path, method, spec in _operations(product):
        names = {p["name"] for p in spec.get("parameters", []) if p["in"] == "header"}
        assert ("Idempotency-Key" in names) == (method in ("post", "put", "patch", "delete")), (path, method)
        for status, answer in spec["responses"].items():
            assert "Request-Id" in answer["headers"], (path, method, status)


def test_every_operation_documents_its_errors_with_their_codes(product):
    for path, method, spec in _operations(product):
        responses = spec["responses"]
        for status in ("401", "404", "422", "500", "503"):
            assert status in responses, (path, method, status)
        assert "Retry-After" in responses["503"]["headers"]
        if "requestBody" in spec:
            assert {"400", "413", "415"} <= responses.keys(), (path, method)
        for status, answer in responses.items():
            if int(status) >= 400:
                codes = answer["x-billy-error-codes"]
                assert all(ERROR_CODES[c].http_status == int(status) for c in codes)
                assert all(f"`{c}`" in answer["description"] for c in codes)
    charge = product["paths"]["/api/v1/workspaces/{workspace}/clients/{service_client_id}/charges"]["post"]
    assert "insufficient_funds" in charge["responses"]["422"]["x-billy-error-codes"]
    assert "in_progress" in charge["responses"]["409"]["x-billy-error-codes"]
    assert "Retry-After" in charge["responses"]["409"]["headers"]


def test_the_error_code_is_an_enum_of_the_error_table(product):
    schemas = product["components"]["schemas"]
    assert schemas["ErrorCode"]["enum"] == list(ERROR_CODES)
    assert schemas["ErrorBody"]["properties"]["code"] == {"$ref": "#/components/schemas/ErrorCode"}


def test_money_statuses_and_timestamps_are_typed(product):
    schemas = product["components"]["schemas"]
    for name in ("ChargeOut", "WalletOut", "RefundOut", "PaymentOut", "PlanOut", "AdjustmentOut"):
        for field, spec in schemas[name]["properties"].items():
            if field in ("amount", "balance", "held", "available", "credit_limit", "price") or field.endswith(
                "_amount"
            ):
                assert spec.get("pattern"), (name, field)
            if field.endswith("_at") and "anyOf" not in spec:
                assert spec["format"] == "date-time" and spec["pattern"].endswith("Z$"), (name, field)
    assert schemas["ChargeOut"]["properties"]["status"]["enum"] == ["HELD", "COMPLETED", "CANCELLED"]
    assert set(schemas["SubscriptionOut"]["properties"]["status"]["enum"]) >= {"PENDING", "ACTIVE"}


def test_events_are_typed_from_the_registry(product):
    schemas = product["components"]["schemas"]
    event = schemas["Event"]
    assert event["discriminator"]["propertyName"] == "type"
    assert set(event["discriminator"]["mapping"]) == set(EVENT_TYPES)
    assert schemas["EventPage"]["properties"]["events"]["items"] == {"$ref": "#/components/schemas/Event"}
    refunded = schemas["ChargeRefundedEvent"]
    assert refunded["properties"]["type"]["const"] == "charge.refunded"
    assert refunded["properties"]["version"]["enum"] == [1, 2]
    assert {"id", "type", "version", "created_at", "amount", "charge_id"} <= set(refunded["required"])
    assert "metadata" not in refunded["required"]  # version 1 has none
    assert not any(
        str(spec.get("pattern", "")).endswith("\\Z")
        for s in schemas.values()
        for spec in s.get("properties", {}).values()
    )
    delivery = product["webhooks"]["event"]["post"]
    assert delivery["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Event"}


def test_the_docs_work_offline(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources
    script = next(s for s in sources if s.endswith(".js"))
    assert client.get(script).status_code == 200
    document = client.get("/api/v1/callbacks/openapi.json")
    assert document.status_code == 200 and document.json()["info"]["title"] == "billy callbacks"
