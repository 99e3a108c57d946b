"""Money in: a registered client with a payer and a contract, through the HTTP API, against the
Balance emulator over loopback; stored jobs run in this process (`run_jobs`)."""

from __future__ import annotations

import json

import httpx
import pytest

from billy.moneyin.models import BalanceNotification
from tests.conftest import make_api_key
from tests.subscriptions.conftest import run_jobs

LEGAL_PAYER = {
    "type": "LEGAL",
    "name": "ООО Ромашка",
    "long_name": "Общество с ограниченной ответственностью «Ромашка»",
    "inn": "7707083893",
    "kpp": "773601001",
    "email": "buh@romashka.ru",
    "phone": "+7 495 123-45-67",
    "legal_address": "Москва, ул. Льва Толстого, 16",
    "bik": "044525225",
    "bank_account": "40702810938000000001",
}
INDIVIDUAL_PAYER = {
    "type": "INDIVIDUAL",
    "name": "Иван Петров",
    "inn": "500100732259",
    "email": "ivan@example.ru",
    "phone": "+79161234567",
    "legal_address": "Москва, ул. Тверская, 1",
}
PREPAY = {"payer_id": "payer-1", "payment_type": "PREPAY", "start_date": "2026-11-01"}
POSTPAY = {
    "payer_id": "payer-1",
    "payment_type": "POSTPAY",
    "credit_limit": "5000.00",
    "payment_term_days": 15,
    "start_date": "2026-11-01",
}


class MoneyApi:
    """The HTTP API of one workspace, under one key, in this process."""

    def __init__(self, http, key: str, workspace: str = "c2b") -> None:
        self.http, self.key, self.base = http, key, f"/api/v1/workspaces/{workspace}"

    def call(self, method: str, path: str, body=None, **headers):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {self.key}", **headers}
        if body is not None:
            kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
        return getattr(self.http, method)(self.base + path, **kwargs)

    def put(self, path, body, **headers):
        return self.call("put", path, body, **headers)

    def post(self, path, body, **headers):
        return self.call("post", path, body, **headers)

    def get(self, path):
        return self.call("get", path)

    # building blocks
    def register(self, client_id="client-1"):
        answer = self.put(
            f"/clients/{client_id}", {"name": "ООО Ромашка", "email": "info@romashka.ru", "phone": "+74951234567"}
        )
        assert answer.status_code in (200, 201), answer.content
        return answer.json()

    def add_payer(self, client_id="client-1", payer_id="payer-1", body=LEGAL_PAYER):
        answer = self.put(f"/clients/{client_id}/payers/{payer_id}", body)
        assert answer.status_code in (200, 201), answer.content
        return answer.json()

    def add_contract(self, client_id="client-1", contract_id="contract-1", body=PREPAY):
        answer = self.put(f"/clients/{client_id}/contracts/{contract_id}", body)
        assert answer.status_code in (200, 201), answer.content
        return answer.json()

    def wallet(self, client_id="client-1"):
        return self.get(f"/clients/{client_id}/wallet").json()


@pytest.fixture
def service_key(workspace):
    return make_api_key("c2b")


@pytest.fixture
def money(client, service_key, balance_control) -> MoneyApi:
    return MoneyApi(client, service_key)


@pytest.fixture
def prepay_client(money):
    """client-1 with payer-1 and an ACTIVE prepay contract-1."""
    money.register()
    money.add_payer()
    assert money.add_contract()["status"] == "ACTIVE"
    return money


@pytest.fixture
def postpay_client(money):
    money.register()
    money.add_payer()
    assert money.add_contract(body=POSTPAY)["status"] == "ACTIVE"
    return money


def process_notifications() -> list[tuple[str, str]]:
    return run_jobs(task_prefix="billy.moneyin.")


def notifications_by_status() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in BalanceNotification.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


# Balance's retry schedule (10 s, 1 min, ...) shrunk: a failed delivery is retried within milliseconds.
TEST_NOTIFY_SCALE = 0.001


def notify_path(workspace) -> str:
    workspace.refresh_from_db()
    return f"/api/v1/workspaces/{workspace.name}/balance/notifications/{workspace.balance_notification_secret}"


@pytest.fixture
def notified(live_billy, balance_control, workspace):
    """The emulator sends the workspace's NotifyOrder calls to a `billy serve` on the test database."""
    balance_control.configure(
        notify_urls={workspace.balance_service_id: live_billy.url + notify_path(workspace)},
        notify_scale=TEST_NOTIFY_SCALE,
    )
    return live_billy


def pay_on_page(payment_url: str, amount: str) -> None:
    """What a person does on Balance's invoice page (its plain form)."""
    answer = httpx.post(payment_url + "/pay", data={"amount": amount}, follow_redirects=True, timeout=30)
    assert answer.status_code == 200, answer.text


def order_of(contract_id: str = "contract-1") -> dict:
    from billy.payers.models import Contract

    order_id = Contract.objects.get(contract_id=contract_id).wallet_order_id
    return order_id


def answered_deliveries(balance_control, order_id: int) -> list[dict]:
    return [n for n in balance_control.notifications() if n.get("OrderID") == order_id and n.get("outcome") != "lost"]


def run_janitor() -> int:
    from billy.moneyin.tasks import poll_wallet_orders_task

    return poll_wallet_orders_task.func(timestamp=0)
