"""Every create to Balance is written first and resolved by reading back: a CreatePerson or CreateOffer
whose answer was lost is adopted on the next call (one object in Balance), and the notification
endpoint keeps to its allowlist."""

from __future__ import annotations

from billy.integrations.balance import notification, port
from billy.moneyin.models import BalanceNotification
from billy.payers.models import Contract, Payer
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS, NOW
from tests.moneyin.conftest import LEGAL_PAYER, PREPAY, notify_path


def test_a_payer_whose_answer_was_lost_is_adopted_not_created_twice(money, balance_control):
    money.register()
    balance_control.inject("commit_then_timeout", method="CreatePerson", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    lost = money.put("/clients/client-1/payers/payer-1", LEGAL_PAYER)
    assert lost.status_code == 503, lost.content
    assert Payer.objects.get().payer_call_started_at is not None  # written before the call

    again = money.put("/clients/client-1/payers/payer-1", LEGAL_PAYER)
    assert again.status_code == 201 and again.json()["status"] == "ACTIVE"
    assert len(balance_control.persons()) == 1
    assert len(balance_control.calls("CreatePerson")) == 1


def test_a_contract_whose_answer_was_lost_is_adopted_not_created_twice(money, balance_control):
    money.register()
    money.add_payer()
    balance_control.inject("commit_then_timeout", method="CreateOffer", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    lost = money.put("/clients/client-1/contracts/contract-1", PREPAY)
    assert lost.status_code == 503, lost.content

    again = money.put("/clients/client-1/contracts/contract-1", PREPAY)
    assert again.status_code == 201 and again.json()["status"] == "ACTIVE"
    assert len(balance_control.contracts()) == 1
    assert Contract.objects.get().number == balance_control.contracts()[0]["ExternalID"]


def test_balance_unreachable_stores_nothing_in_flight(money, balance_control):
    money.register()
    balance_control.inject("unavailable", method="CreatePerson")
    answer = money.put("/clients/client-1/payers/payer-1", LEGAL_PAYER)
    assert answer.status_code == 503 and answer["Retry-After"]
    assert Payer.objects.get().payer_call_started_at is None  # the call took no effect
    assert money.put("/clients/client-1/payers/payer-1", LEGAL_PAYER).status_code == 201


def test_notifications_from_outside_the_allowlist_are_403(client, workspace, settings):
    settings.BALANCE_NOTIFY_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    body = notification.notify_order_body(
        port.Notification(
            service_id=1002,
            order_id=1,
            seq=1,
            currency="RUB",
            paid_total=100,
            credit_total=0,
            consumed_total=0,
            at=NOW,
        )
    )
    answer = client.post(notify_path(workspace), data=body, content_type="text/xml")
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    assert not BalanceNotification.objects.exists()
