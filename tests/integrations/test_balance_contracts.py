"""Payers, contracts and personal accounts: the adapter against the emulator over loopback."""

import dataclasses
import datetime as dt
import json

import pytest

from billy.integrations.balance import port
from billy.integrations.balance.client import XmlRpcBalance
from billy.integrations.balance.emulator import BalanceEmulator, BalanceEmulatorControl
from billy.integrations.balance.port import BalanceFault, BalanceOutcomeUnknown, PaymentType
from tests.conftest import wait_for
from tests.integrations.balance_setup import PAYER, START, new_client, offer, open_contract


def test_a_payer_is_created_read_back_and_updated(balance):
    client_id = new_client(balance)
    person_id = balance.create_person(client_id=client_id, data=PAYER)
    changed = dataclasses.replace(PAYER, email="new@romashka.ru", post_address="Москва, а/я 1")

    assert balance.create_person(client_id=client_id, data=changed, person_id=person_id) == person_id
    assert balance.get_client_persons(client_id=client_id) == [port.Person(person_id, client_id, changed)]


def test_an_individual_payer_has_a_twelve_digit_inn(balance):
    client_id = new_client(balance)
    individual = port.PersonData(
        type=port.PersonType.INDIVIDUAL,
        name="Иванов Иван",
        inn="500100732259",
        email="ivan@example.ru",
        phone="+79161234567",
        legal_address="Москва",
    )
    person_id = balance.create_person(client_id=client_id, data=individual)
    assert balance.get_client_persons(client_id=client_id)[0].data == individual
    with pytest.raises(BalanceFault) as error:
        balance.create_person(client_id=client_id, data=dataclasses.replace(individual, inn="7701234567"))
    assert error.value.code == "INVALID_PARAM"
    assert [p.person_id for p in balance.get_client_persons(client_id=client_id)] == [person_id]


@pytest.mark.parametrize(
    ("client", "person_id", "code"),
    [("unknown", None, "CLIENT_NOT_FOUND"), ("known", 42, "PERSON_NOT_FOUND")],
)
def test_create_person_faults(balance, client, person_id, code):
    client_id = new_client(balance) if client == "known" else 42
    with pytest.raises(BalanceFault) as error:
        balance.create_person(client_id=client_id, data=PAYER, person_id=person_id)
    assert error.value.code == code


def test_reads_of_an_unknown_client_are_faults(balance):
    for read in (
        lambda: balance.get_client_persons(client_id=42),
        lambda: balance.get_client_contracts(client_id=42),
        lambda: balance.get_client_credit_limits(client_id=42),
        lambda: balance.get_client_invoices(
            client_id=42,
            date_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            date_to=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        ),
        lambda: balance.get_client_acts(client_id=42, date_from=dt.date(2026, 1, 1), date_to=dt.date(2027, 1, 1)),
    ):
        with pytest.raises(BalanceFault) as error:
            read()
        assert error.value.code == "CLIENT_NOT_FOUND"


def test_an_accepted_offer_is_a_contract_with_a_personal_account_and_a_wallet_order(balance, balance_control):
    opened = open_contract(balance, payment_type=PaymentType.POSTPAY, credit_limit=5_000_000)

    (contract,) = balance.get_client_contracts(client_id=opened.client_id)
    assert contract == port.Contract(
        contract_id=opened.contract_id,
        external_id=contract.external_id,
        person_id=opened.person_id,
        payment_type=PaymentType.POSTPAY,
        currency="RUB",
        active=True,
        suspended=False,
        credit_limit=5_000_000,
        start_date=START,
        finish_date=None,
    )
    assert contract.external_id
    assert opened.account.credit_limit == 5_000_000
    assert (opened.account.paid_total, opened.account.credit_used, opened.account.currency) == (0, 0, "RUB")
    (order,) = balance_control.orders()
    assert (order["OrderID"], order["ClientID"]) == (opened.account.wallet_order_id, opened.client_id)


def test_offer_faults(balance):
    client_id = new_client(balance)
    person_id = balance.create_person(client_id=client_id, data=PAYER)
    other_client = new_client(balance, "Другой")
    cases = [
        (offer(other_client, person_id, PaymentType.PREPAY, None), "PERSON_NOT_FOUND"),
        (dataclasses.replace(offer(client_id, person_id, PaymentType.PREPAY, None), currency="rub"), "INVALID_PARAM"),
        (
            dataclasses.replace(offer(client_id, person_id, PaymentType.POSTPAY, 100), credit_limit=None),
            "INVALID_PARAM",
        ),
    ]
    for data, code in cases:
        with pytest.raises(BalanceFault) as error:
            balance.create_offer(data)
        assert error.value.code == code
    assert balance.get_client_contracts(client_id=client_id) == []


def test_the_personal_account_is_not_ready_until_the_configured_delay_has_passed(balance, balance_control):
    balance_control.configure(account_delay_seconds=3600)  # emulator time: the test moves the clock
    client_id = new_client(balance)
    person_id = balance.create_person(client_id=client_id, data=PAYER)
    contract = balance.create_offer(offer(client_id, person_id, PaymentType.PREPAY, None))
    with pytest.raises(BalanceFault) as error:
        balance.get_personal_account(contract_id=contract.contract_id)
    assert error.value.code == "PERSONAL_ACCOUNT_NOT_READY"

    balance_control.advance_clock(3601)

    assert balance.get_personal_account(contract_id=contract.contract_id).wallet_order_id > 0


def test_update_contract_changes_the_limit_and_finishes_it(balance):
    opened = open_contract(balance, payment_type=PaymentType.POSTPAY, credit_limit=100_000)
    balance.update_contract(
        port.ContractChange(
            contract_id=opened.contract_id, credit_limit=250_000, payment_term_days=30, finish_date=START
        )
    )
    (contract,) = balance.get_client_contracts(client_id=opened.client_id)
    assert (contract.credit_limit, contract.finish_date, contract.active) == (250_000, START, False)
    assert balance.get_personal_account(contract_id=opened.contract_id).credit_limit == 250_000


def test_update_and_account_of_an_unknown_contract_are_faults(balance):
    for call in (
        lambda: balance.update_contract(port.ContractChange(contract_id=42, credit_limit=1)),
        lambda: balance.get_personal_account(contract_id=42),
    ):
        with pytest.raises(BalanceFault) as error:
            call()
        assert error.value.code == "CONTRACT_NOT_FOUND"


def test_a_prepay_contract_takes_no_credit_limit(balance):
    opened = open_contract(balance)
    with pytest.raises(BalanceFault) as error:
        balance.update_contract(port.ContractChange(contract_id=opened.contract_id, credit_limit=100))
    assert error.value.code == "INVALID_PARAM"


def test_an_internal_error_fault_leaves_the_outcome_unknown(balance, balance_control):
    balance_control.inject("fault", method="CreatePerson")  # INTERNAL_ERROR: Balance may have done part of it
    with pytest.raises(BalanceOutcomeUnknown):
        balance.create_person(client_id=new_client(balance), data=PAYER)


def test_a_fault_with_another_code_is_a_refusal(balance, balance_control):
    balance_control.inject("fault", method="CreateOffer", code="TOO_MANY_OPERATIONS")
    client_id = new_client(balance)
    person_id = balance.create_person(client_id=client_id, data=PAYER)
    with pytest.raises(BalanceFault) as error:
        balance.create_offer(offer(client_id, person_id, PaymentType.PREPAY, None))
    assert error.value.code == "TOO_MANY_OPERATIONS"
    assert balance.get_client_contracts(client_id=client_id) == []


def test_a_payer_created_behind_a_dropped_answer_is_found_by_reading_back(balance, balance_control):
    client_id = new_client(balance)
    balance_control.inject("commit_then_timeout", method="CreatePerson")  # the answer is dropped at once
    with pytest.raises(BalanceOutcomeUnknown):
        balance.create_person(client_id=client_id, data=PAYER)
    assert [p.data for p in balance.get_client_persons(client_id=client_id)] == [PAYER]


def test_a_contract_created_behind_a_dropped_answer_is_found_by_reading_back(balance, balance_control):
    client_id = new_client(balance)
    person_id = balance.create_person(client_id=client_id, data=PAYER)
    balance_control.inject("commit_then_timeout", method="CreateOffer")
    with pytest.raises(BalanceOutcomeUnknown):
        balance.create_offer(
            dataclasses.replace(offer(client_id, person_id, PaymentType.PREPAY, None), external_ref="o-1")
        )
    (contract,) = balance.get_client_contracts(client_id=client_id)
    assert (contract.person_id, contract.payment_type, contract.external_ref) == (person_id, PaymentType.PREPAY, "o-1")
    assert wait_for(lambda: balance.get_personal_account(contract_id=contract.contract_id))


def test_reads_are_retried_safely_after_a_503(balance, balance_control):
    opened = open_contract(balance)
    balance_control.inject("unavailable", method="GetClientContracts")
    with pytest.raises(port.BalanceUnavailable):
        balance.get_client_contracts(client_id=opened.client_id)
    assert [c.contract_id for c in balance.get_client_contracts(client_id=opened.client_id)] == [opened.contract_id]


def test_contracts_accounts_and_money_survive_a_restart_with_the_state_file(tmp_path):
    state_file = tmp_path / "balance.json"
    first = BalanceEmulator(state_file=state_file).start()
    opened = open_contract(XmlRpcBalance(url=first.url, operator_uid=0))
    BalanceEmulatorControl(first.base_url).transfer(opened.account.personal_account_id, "12.34")
    first.stop()

    second = BalanceEmulator(state_file=state_file).start()
    try:
        balance = XmlRpcBalance(url=second.url, operator_uid=0)
        account = balance.get_personal_account(contract_id=opened.contract_id)
        assert (account.wallet_order_id, account.paid_total) == (opened.account.wallet_order_id, 1_234)
        assert [p.person_id for p in balance.get_client_persons(client_id=opened.client_id)] == [opened.person_id]
    finally:
        second.stop()


def test_a_state_file_from_before_payers_and_contracts_still_loads(tmp_path):
    state_file = tmp_path / "balance.json"
    client = {"CLIENT_ID": 1000001, "NAME": "n", "EMAIL": "n@x.ru", "PHONE": "+74950000000"}
    state_file.write_text(json.dumps({"clients": {"1000001": client}, "links": {}, "next_id": 1000002}))
    emulator = BalanceEmulator(state_file=state_file).start()
    try:
        balance = XmlRpcBalance(url=emulator.url, operator_uid=0)
        assert [p.person_id for p in balance.get_client_persons(client_id=1000001)] == []
        assert balance.create_person(client_id=1000001, data=PAYER) == 1000002
    finally:
        emulator.stop()
