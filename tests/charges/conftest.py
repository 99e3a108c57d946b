"""Fixtures for money tests: a registered client, keys, and helpers to call the API."""

import json

import pytest

from billy.clients.models import Client
from billy.core import clock
from billy.ledger import operations as ledger_operations
from tests.conftest import NOW, make_api_key


def make_client(workspace, service_client_id="client-1") -> Client:
    return Client.objects.create(
        workspace=workspace,
        service_client_id=service_client_id,
        name="ООО Ромашка",
        email="info@romashka.ru",
        phone="+74951234567",
        status=Client.Status.ACTIVE,
        balance_client_id=hash(service_client_id) % 1_000_000_000,
        created_at=NOW,
        updated_at=NOW,
    )


def fund(client, amount, adjustment_id=None):
    ledger_operations.adjust_wallet(
        client=client,
        adjustment_id=adjustment_id or f"fund-{client.pk}-{amount}-{clock.now().timestamp()}",
        amount=amount,
        reason="test money",
        actor="test",
        now=NOW,
    )


@pytest.fixture
def client_a(workspace):
    return make_client(workspace)


@pytest.fixture
def service_key(workspace):
    return make_api_key("c2b")


@pytest.fixture
def operator_key(workspace):
    return make_api_key("c2b", role="OPERATOR")


class Api:
    def __init__(self, http, key):
        self.http, self.key = http, key

    def _call(self, method, path, body=None):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"}
        if body is not None:
            kwargs |= {"data": json.dumps(body) if not isinstance(body, bytes) else body}
            kwargs["content_type"] = "application/json"
        return getattr(self.http, method)("/api/v1/workspaces/c2b" + path, **kwargs)

    def get(self, path):
        return self._call("get", path)

    def post(self, path, body=None):
        return self._call("post", path, body if body is not None else {})


@pytest.fixture
def api(client, service_key):
    return Api(client, service_key)


@pytest.fixture
def operator_api(client, operator_key):
    return Api(client, operator_key)
