"""The clients HTTP API: status codes, the error envelope, isolation between keys and workspaces."""

import json
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from billy.clients.models import Client
from billy.core import clock
from billy.integrations.balance.port import ClientData
from billy.workspaces import operations as workspace_operations
from billy.workspaces.models import ApiKey
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS, make_api_key, make_workspace

BODY = {"name": "ООО Ромашка", "email": "info@romashka.ru", "phone": "8 (495) 123-45-67"}
PATH = "/api/v1/workspaces/c2b/clients/client-1"


@pytest.fixture
def key(workspace, balance_control) -> str:
    return make_api_key("c2b")


def put(client, key, path=PATH, body=BODY, **headers):
    return client.put(
        path, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}", **headers
    )


def get(client, key, path=PATH):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {key}")


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["request_id"] == response["Request-Id"]
    assert body["error"]["code"] == code
    return body["error"]


def test_put_creates_then_get_returns_it(client, key, balance_control):
    created = put(client, key)

    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in ("workspace", "service_client_id", "name", "email", "phone", "status")} == {
        "workspace": "c2b",
        "service_client_id": "client-1",
        "name": "ООО Ромашка",
        "email": "info@romashka.ru",
        "phone": "+74951234567",
        "status": "ACTIVE",
    }
    assert get(client, key).json() == body
    assert len(balance_control.clients()) == 1


def test_put_again_with_other_fields_updates_with_200(client, key, balance_control):
    put(client, key)

    updated = put(client, key, body={**BODY, "name": "Ромашка"})

    assert updated.status_code == 200
    assert updated.json()["name"] == "Ромашка"
    assert balance_control.clients()[0]["NAME"] == "Ромашка"


def test_identical_put_is_200_and_calls_nothing(client, key, balance_control):
    put(client, key)
    calls = len(balance_control.calls())

    assert put(client, key).status_code == 200
    assert len(balance_control.calls()) == calls


def test_invalid_fields_are_422_with_details_and_no_balance_call(client, key, balance_control):
    error = assert_error(put(client, key, body={**BODY, "email": "x", "name": ""}), 422, "validation_failed")

    assert error["details"]["fields"] == {
        "name": ["This field is required."],
        "email": ["Enter a valid email address."],
    }
    assert balance_control.calls() == []
    assert not Client.objects.exists()


def test_missing_and_mistyped_fields_are_422_in_the_same_envelope(client, key, balance_control):
    error = assert_error(put(client, key, body={"name": 5, "email": "a@b.ru"}), 422, "validation_failed")

    assert set(error["details"]["fields"]) == {"name", "phone"}
    assert balance_control.calls() == []


def test_json_number_where_a_string_is_expected_is_422(client, key):
    assert_error(put(client, key, body={**BODY, "phone": 74951234567}), 422, "validation_failed")


def test_unparsable_json_is_400(client, key):
    response = client.put(PATH, data=b"{bad", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"null"])
def test_json_that_is_not_an_object_is_422(client, key, raw, balance_control):
    response = client.put(PATH, data=raw, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert_error(response, 422, "validation_failed")
    assert balance_control.calls() == []


def test_oversized_body_is_413_and_nothing_is_written(client, key, balance_control):
    body = {**BODY, "name": "x" * 3_000_000}
    assert_error(put(client, key, body=body), 413, "payload_too_large")
    assert not Client.objects.exists()


@pytest.mark.parametrize("service_client_id", ["%00", "a%00b", "x" * 200])
def test_impossible_client_ids_are_404_on_get(client, key, service_client_id):
    response = get(client, key, path=f"/api/v1/workspaces/c2b/clients/{service_client_id}")
    assert_error(response, 404, "client_not_found")


def test_nul_in_a_put_path_is_422(client, key, balance_control):
    assert_error(put(client, key, path="/api/v1/workspaces/c2b/clients/a%00b"), 422, "validation_failed")
    assert balance_control.calls() == []


def test_commit_then_timeout_is_503_then_the_retry_adopts(client, key, balance_control):
    balance_control.inject("commit_then_timeout", seconds=COMMIT_THEN_TIMEOUT_SECONDS)

    assert_error(put(client, key), 503, "upstream_unavailable")
    assert put(client, key).status_code == 201

    assert len(balance_control.clients()) == 1
    assert len(balance_control.calls("CreateClient")) == 1


def test_balance_outage_is_503_with_retry_after_then_retry_succeeds(client, key, balance_control):
    balance_control.inject("unavailable", count=1)

    response = put(client, key)

    assert_error(response, 503, "upstream_unavailable")
    assert int(response["Retry-After"]) > 0
    assert put(client, key).status_code == 201
    assert len([c for c in balance_control.calls("CreateClient") if c["outcome"] == "ok"]) == 1


def test_an_unknown_outcome_without_trace_is_503_until_the_call_is_surely_over(client, key, balance_control):
    balance_control.inject("error", count=1)
    assert_error(put(client, key), 503, "upstream_unavailable")

    response = put(client, key)

    assert_error(response, 503, "upstream_unavailable")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert balance_control.clients() == []


def test_needs_attention_is_409(client, key, balance, balance_control):
    for _ in range(2):  # two Balance clients with the same data: which one is ours is ambiguous
        balance.create_client(ClientData(name=BODY["name"], email=BODY["email"], phone="+74951234567"))
    balance_control.inject("error", count=1)
    assert_error(put(client, key), 503, "upstream_unavailable")

    assert_error(put(client, key), 409, "client_needs_attention")


@pytest.mark.parametrize(
    "authorization", [None, "Bearer ", "Bearer billy_unknown", "Basic dXNlcjpwYXNz", "billy_no_scheme"]
)
def test_missing_or_bad_key_is_401(client, workspace, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    response = client.put(PATH, data=json.dumps(BODY), content_type="application/json", **headers)
    assert_error(response, 401, "unauthenticated")


def test_revoked_key_is_401(client, key):
    api_key = ApiKey.objects.get()
    workspace_operations.revoke_api_key(api_key_id=api_key.pk, now=clock.now())

    assert_error(get(client, key), 401, "unauthenticated")


def test_workspace_not_granted_is_404_and_nothing_is_written(client, key, balance_control):
    make_workspace("autoru")

    assert_error(put(client, key, path="/api/v1/workspaces/autoru/clients/client-1"), 404, "workspace_not_found")
    assert_error(get(client, key, path="/api/v1/workspaces/autoru/clients/client-1"), 404, "workspace_not_found")
    assert balance_control.calls() == []


def test_a_workspace_not_granted_answers_as_one_that_does_not_exist(client, key):
    make_workspace("autoru")

    granted_elsewhere = get(client, key, path="/api/v1/workspaces/autoru/clients/client-1")
    unknown = get(client, key, path="/api/v1/workspaces/nosuch/clients/client-1")

    assert granted_elsewhere.status_code == unknown.status_code == 404
    assert granted_elsewhere.json() == {
        "error": {
            **unknown.json()["error"],
            "message": "No workspace named 'autoru'.",
            "request_id": granted_elsewhere["Request-Id"],
        }
    }


def test_clients_of_another_workspace_are_invisible(client, key, balance_control):
    make_workspace("autoru")
    autoru_key = make_api_key("autoru")
    put(client, key)

    assert_error(get(client, autoru_key, path="/api/v1/workspaces/autoru/clients/client-1"), 404, "client_not_found")
    assert_error(get(client, autoru_key), 404, "workspace_not_found")


def test_a_key_granted_two_workspaces_reaches_both(client, workspace, balance_control):
    make_workspace("autoru")
    both = make_api_key("c2b", "autoru")

    assert put(client, both).status_code == 201
    assert put(client, both, path="/api/v1/workspaces/autoru/clients/client-1").status_code == 201


def test_unknown_workspace_and_client_are_404(client, key):
    assert_error(get(client, key, path="/api/v1/workspaces/nope/clients/client-1"), 404, "workspace_not_found")
    assert_error(get(client, key), 404, "client_not_found")


def test_unknown_path_and_wrong_method_use_the_envelope(client, key):
    assert_error(client.get("/api/v1/nothing/here"), 404, "not_found")
    response = client.delete(PATH, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert_error(response, 405, "method_not_allowed")


def test_openapi_document_and_docs_are_served(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["info"]["title"] == "billy"
    assert set(document["paths"]["/api/v1/workspaces/{workspace}/clients/{service_client_id}"]) == {"put", "get"}
    assert client.get("/api/v1/docs").status_code == 200


def test_tests_never_use_the_dev_database(transactional_db):
    from django.db import connection

    assert connection.settings_dict["NAME"].startswith("test_")


def test_health_and_ready(client, transactional_db):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"status": "ready"}


def test_authenticated_get_costs_three_queries(client, key, django_assert_num_queries):
    put(client, key)
    # the key, the workspace with its grant, the client
    with django_assert_num_queries(3):
        assert get(client, key).status_code == 200


def test_twenty_concurrent_puts_make_one_balance_client(live_billy, key, balance_control):
    # Slow Balance down so every request arrives while the first CreateClient is in flight.
    balance_control.inject("delay", seconds=0.5, method="CreateClient")
    url = live_billy.url + PATH

    def call(_):
        return httpx.put(url, json=BODY, headers={"Authorization": f"Bearer {key}"}, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(call, range(20)))

    assert set(statuses) <= {200, 201}
    assert statuses.count(201) == 1
    assert len(balance_control.calls("CreateClient")) == 1
    assert len(balance_control.clients()) == 1
    # Both server processes took part: the lock works across processes, not only threads.
    pids = set(
        re.findall(
            r'"PUT /api/v1/workspaces/c2b/clients/client-1 HTTP/1.1" \d+ \d+ \d+ms pid=<(\d+)>',
            live_billy.log.read_text(),
        )
    )
    assert len(pids) >= 2


def test_live_server_answers_with_the_envelope(live_billy, key):
    response = httpx.get(
        live_billy.url + "/api/v1/workspaces/c2b/clients/nobody", headers={"Authorization": "Bearer x"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
