"""The XML-RPC adapter against the emulator over loopback: protocol, faults, and what is known."""

import json

import pytest

from billy.integrations.balance.client import XmlRpcBalance
from billy.integrations.balance.port import (
    BalanceFault,
    BalanceOutcomeUnknown,
    BalanceUnavailable,
    ClientData,
)
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS, wait_for

DATA = ClientData(name="ООО Ромашка", email="info@romashka.ru", phone="+74951234567")


def test_create_then_update_keeps_the_client_id(balance, balance_control):
    client_id = balance.create_client(DATA)
    assert balance.create_client(ClientData("Ромашка", "new@romashka.ru", "+74951234568"), client_id=client_id) == (
        client_id
    )
    assert balance_control.clients() == [
        {"CLIENT_ID": client_id, "NAME": "Ромашка", "EMAIL": "new@romashka.ru", "PHONE": "+74951234568", "links": []}
    ]


def test_find_clients_matches_all_fields(balance):
    first = balance.create_client(DATA)
    balance.create_client(ClientData(DATA.name, "other@romashka.ru", DATA.phone))
    assert [c.client_id for c in balance.find_clients(DATA)] == [first]


def test_link_is_idempotent(balance, balance_control):
    client_id = balance.create_client(DATA)
    for _ in range(2):
        balance.link_client_to_configuration(client_id=client_id, integration="c2b", configuration="c2b_default")
    assert balance_control.clients()[0]["links"] == [{"integration": "c2b", "configuration": "c2b_default"}]


def test_link_of_unknown_client_is_a_fault(balance):
    with pytest.raises(BalanceFault) as error:
        balance.link_client_to_configuration(client_id=42, integration="c2b", configuration="c2b_default")
    assert error.value.code == "CLIENT_NOT_FOUND"


def test_balance_like_fault_for_bad_email(balance, balance_control):
    with pytest.raises(BalanceFault) as error:
        balance.create_client(ClientData("n", "broken", "+74951234567"))
    assert error.value.code == "INVALID_PARAM"
    assert balance_control.clients() == []


def test_503_is_unavailable_and_nothing_is_done(balance, balance_control):
    balance_control.inject("unavailable", count=1)
    with pytest.raises(BalanceUnavailable):
        balance.create_client(DATA)
    assert balance_control.clients() == []


def test_500_leaves_the_outcome_unknown(balance, balance_control):
    balance_control.inject("error", count=1)
    with pytest.raises(BalanceOutcomeUnknown):
        balance.create_client(DATA)


def test_commit_then_timeout_leaves_the_outcome_unknown_but_the_client_exists(balance, balance_control):
    balance_control.inject("commit_then_timeout", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    with pytest.raises(BalanceOutcomeUnknown):
        balance.create_client(DATA)
    assert len(balance_control.clients()) == 1


def test_answer_dropped_after_the_commit_leaves_the_outcome_unknown_and_is_not_sent_again(balance, balance_control):
    balance_control.inject("commit_then_timeout", seconds=0)  # the connection closes at once, unanswered
    with pytest.raises(BalanceOutcomeUnknown):
        balance.create_client(DATA)
    assert [c["outcome"] for c in balance_control.calls("CreateClient")] == ["ok:late"]
    assert len(balance_control.clients()) == 1


def test_delay_within_the_timeout_succeeds(balance, balance_control):
    balance_control.inject("delay", seconds=0.3)
    assert balance.create_client(DATA) > 0


def test_fault_injection_can_target_one_method(balance, balance_control):
    balance_control.inject("unavailable", count=2, method="LinkIntegrationToClient")
    client_id = balance.create_client(DATA)
    for _ in range(2):
        with pytest.raises(BalanceUnavailable):
            balance.link_client_to_configuration(client_id=client_id, integration="c2b", configuration="c")
    balance.link_client_to_configuration(client_id=client_id, integration="c2b", configuration="c")
    outcomes = [c["outcome"] for c in balance_control.calls("LinkIntegrationToClient")]
    assert outcomes == ["unavailable", "unavailable", "ok"]


def test_refused_connection_is_unavailable(refused_port):
    adapter = XmlRpcBalance(url=f"http://127.0.0.1:{refused_port}/xmlrpc", operator_uid=0, connect_timeout=1, timeout=1)
    with pytest.raises(BalanceUnavailable):
        adapter.create_client(DATA)


def test_call_log_records_method_and_params(balance, balance_control):
    balance.create_client(DATA)
    (call,) = balance_control.calls("CreateClient")
    assert call["method"] == "Balance2.CreateClient"
    assert call["params"][1] == {"NAME": DATA.name, "EMAIL": DATA.email, "PHONE": DATA.phone}
    assert call["outcome"] == "ok"


def test_emulator_state_reaches_its_file_behind_the_changes_without_a_stop(tmp_path):
    from billy.integrations.balance.emulator import BalanceEmulator

    state_file = tmp_path / "balance.json"
    emulator = BalanceEmulator(state_file=state_file).start()
    try:
        balance = XmlRpcBalance(url=emulator.url, operator_uid=0)
        people = [ClientData(name=f"n{i}", email=f"{i}@x.ru", phone="+74950000000") for i in range(50)]
        ids = [balance.create_client(person) for person in people]

        wait_for(lambda: state_file.exists() and len(json.loads(state_file.read_text())["clients"]) == 50)
        assert sorted(int(k) for k in json.loads(state_file.read_text())["clients"]) == sorted(ids)
    finally:
        emulator.stop()


def test_emulator_state_file_survives_a_restart(tmp_path):
    from billy.integrations.balance.emulator import BalanceEmulator

    state_file = tmp_path / "balance.json"
    first = BalanceEmulator(state_file=state_file).start()
    client_id = XmlRpcBalance(url=first.url, operator_uid=0).create_client(DATA)
    first.stop()
    second = BalanceEmulator(state_file=state_file).start()
    try:
        assert [c.client_id for c in XmlRpcBalance(url=second.url, operator_uid=0).find_clients(DATA)] == [client_id]
    finally:
        second.stop()
