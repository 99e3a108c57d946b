"""Hot wallet coalescing (billy.charges.coalesce): charges of one wallet that arrive while one is
written go together in the next transaction, each still decided against the money."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import OperationalError, connection

from billy.charges import batch, coalesce
from billy.charges.models import Charge
from billy.charges.operations import ChargeRequest
from billy.core.errors import IdempotencyConflict
from billy.events.models import Event
from billy.ledger.models import Account, Entry
from billy.ledger.postings import InsufficientFunds
from tests.charges.conftest import fund
from tests.conftest import NOW


def test_200_concurrent_charges_at_one_wallet_with_money_for_150(live_billy, client_a, service_key):
    fund(client_a, 150 * 2_00)  # exactly 150 charges of 2.00
    url = f"{live_billy.url}/api/v1/workspaces/c2b/clients/client-1/charges"
    start = threading.Barrier(64)

    def charge(i):
        if i < 64:
            start.wait(timeout=60)  # the first 64 leave together: the wallet is hot from the start
        body = {"charge_id": f"hot-{i}", "product": "p", "amount": "2.00"}
        response = httpx.post(url, json=body, headers={"Authorization": f"Bearer {service_key}"}, timeout=120)
        return i, response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(charge, range(200)))

    statuses = [status for _, status, _ in results]
    assert statuses.count(201) == 150
    assert statuses.count(422) == 50
    assert {body["error"]["code"] for _, status, body in results if status == 422} == {"insufficient_funds"}
    created = {f"hot-{i}" for i, status, _ in results if status == 201}
    assert all(body["charge_id"] == f"hot-{i}" and body["status"] == "COMPLETED" for i, s, body in results if s == 201)

    wallet = Account.objects.get(client=client_a)
    assert (wallet.balance, wallet.held) == (0, 0)
    assert sum(Entry.objects.filter(account=wallet).values_list("amount", flat=True)) == 0
    charges = Charge.objects.filter(client=client_a)
    assert set(charges.values_list("charge_id", flat=True)) == created
    assert all(c.transaction_id is not None for c in charges)
    events = Event.objects.filter(type="charge.completed")
    assert sorted(e.data["charge_id"] for e in events) == sorted(created)  # one event each, none for a refusal
    # Coalesced: some charges were written by the same database transaction (a row's xmin).
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT xmin::text) FROM charge WHERE client_id = %s", [client_a.pk])
        (transactions,) = cursor.fetchone()
    assert transactions < 150


def _wait_for(predicate, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def _queued(wallet_id: int) -> int:
    with coalesce._lock:
        line = coalesce._lines.get(wallet_id)
        return len(line.waiting) if line else 0


def _run_held_up(client, requests, *, when_queued):
    """The first request is written while the others queue behind it, in their order; `when_queued`
    runs once they all wait, then the first write goes on. Returns each request's (outcome, error)."""
    wallet_id = Account.objects.get(client=client).pk
    release = threading.Event()
    original = coalesce.write_prepared_charge

    def held_write(prepared):
        if prepared.request.charge_id == requests[0].charge_id:
            release.wait(timeout=60)
        return original(prepared)

    def call(request):
        try:
            return coalesce.post_charge(client=client, request=request, now=NOW), None
        except Exception as e:  # the answer under test
            return None, e
        finally:
            connection.close()

    coalesce.write_prepared_charge = held_write
    try:
        with ThreadPoolExecutor(max_workers=len(requests)) as pool:
            first = pool.submit(call, requests[0])
            _wait_for(lambda: _queued(wallet_id) == 0 and wallet_id in coalesce._lines, "the first write")
            rest = []
            for queued, request in enumerate(requests[1:], start=1):  # one by one: they queue in this order
                rest.append(pool.submit(call, request))
                _wait_for(lambda queued=queued: _queued(wallet_id) == queued, f"request {queued} to queue")
            when_queued()
            release.set()
            return [first.result(timeout=120), *(f.result(timeout=120) for f in rest)]
    finally:
        coalesce.write_prepared_charge = original


def _charge(charge_id, amount=1_00, product="p"):
    return ChargeRequest(charge_id=charge_id, product=product, amount=amount)


@pytest.mark.django_db(transaction=True)
def test_a_group_answers_each_charge_as_the_single_statement_would(client_a):
    fund(client_a, 5_00)
    coalesce.post_charge(client=client_a, request=_charge("stored"), now=NOW)  # 4.00 left
    requests = [
        _charge("first"),  # written alone, first: 3.00 left
        _charge("a", 2_00),  # the group: 1.00 left
        _charge("stored"),  # a repeat of a stored charge
        _charge("stored", product="other"),  # its id with another body
        _charge("big", 2_00),  # refused: 1.00 left
        _charge("b"),  # fits after a refusal: 0 left
        _charge("a", 2_00),  # a repeat of a charge of the same group
    ]
    answers = _run_held_up(client_a, requests, when_queued=lambda: None)

    outcome = {r.charge_id + str(i): a for i, (r, a) in enumerate(zip(requests, answers, strict=True))}
    assert outcome["first0"][0][1] is True
    assert outcome["a1"][0][1] is True
    assert outcome["stored2"][0][1] is False and outcome["stored2"][0][0].charge_id == "stored"
    assert isinstance(outcome["stored3"][1], IdempotencyConflict)
    assert isinstance(outcome["big4"][1], InsufficientFunds)
    assert outcome["b5"][0][1] is True
    assert outcome["a6"][0][1] is False and outcome["a6"][0][0].charge_id == "a"
    wallet = Account.objects.get(client=client_a)
    assert wallet.balance == 0
    assert set(Charge.objects.values_list("charge_id", flat=True)) == {"stored", "first", "a", "b"}
    assert Event.objects.filter(type="charge.completed").count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_group_the_wallet_has_the_money_for_is_written_by_one_statement(client_a, monkeypatch):
    fund(client_a, 10_00)
    statements = []
    original_run = batch._run

    def counted_run(statement, *args, **kwargs):
        statements.append(statement)
        return original_run(statement, *args, **kwargs)

    requests = [
        _charge("first"),  # written alone: 9.00 left
        _charge("a", 2_00),
        ChargeRequest(charge_id="h", product="p", amount=3_00, hold=True),  # a hold in the group
        _charge("b", 4_00),  # the group takes exactly what is left
        _charge("a", 2_00),  # a repeat within the group: answered as a repeat after it
    ]
    answers = _run_held_up(client_a, requests, when_queued=lambda: monkeypatch.setattr(batch, "_run", counted_run))

    assert statements == [batch._AT_ONCE_SQL]  # one statement for the group, nothing decided in Python
    assert [a[0][1] for a in answers] == [True, True, True, True, False]
    assert answers[4][0][0].pk == answers[1][0][0].pk
    wallet = Account.objects.get(client=client_a)
    assert (wallet.balance, wallet.held) == (3_00, 3_00)  # nothing left available
    assert sum(Entry.objects.filter(account=wallet).values_list("amount", flat=True)) == wallet.balance
    charges = {c.charge_id: c for c in Charge.objects.all()}
    assert charges["h"].status == "HELD" and charges["h"].transaction_id is None
    assert charges["a"].transaction_id != charges["b"].transaction_id
    for charge_id in ("a", "b"):  # each charge names its own ledger transaction, with its two entries
        answered = next(a[0][0] for r, a in zip(requests, answers, strict=True) if r.charge_id == charge_id)
        assert answered.transaction_id == charges[charge_id].transaction_id
        assert Entry.objects.filter(transaction_id=charges[charge_id].transaction_id).count() == 2
    assert sorted(e.data["charge_id"] for e in Event.objects.filter(type__startswith="charge.")) == [
        "a",
        "b",
        "first",
        "h",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_group_the_money_is_short_for_is_decided_charge_by_charge(client_a):
    fund(client_a, 4_00)
    requests = [_charge("first"), _charge("a", 2_00), _charge("b", 2_00), _charge("c", 1_00)]
    answers = _run_held_up(client_a, requests, when_queued=lambda: None)

    # 3.00 after the first: the one statement for a, b and c (5.00) aborts; a and c fit in order, b not
    assert answers[1][0][1] is True and isinstance(answers[2][1], InsufficientFunds) and answers[3][0][1] is True
    assert Account.objects.get(client=client_a).balance == 0
    assert set(Charge.objects.values_list("charge_id", flat=True)) == {"first", "a", "c"}
    assert Event.objects.filter(type="charge.completed").count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["at once", "deciding"])
def test_a_group_that_fails_writes_nothing_and_fails_every_charge_in_it(client_a, monkeypatch, path):
    fund(client_a, 10_00)
    original_insert = batch._insert

    def insert_then_fail(*args, **kwargs):
        original_insert(*args, **kwargs)  # the rows are in, inside the group's transaction
        raise OperationalError("the connection was lost")

    def lost_before_the_answer(*args, **kwargs):  # the one statement never ran
        raise OperationalError("the connection was lost")

    def fail_the_group():
        if path == "at once":
            monkeypatch.setattr(batch, "_run", lost_before_the_answer)
        else:  # the group decided charge by charge, in a transaction that fails after its rows went in
            monkeypatch.setattr(batch, "_write_at_once", lambda *args: None)
            monkeypatch.setattr(batch, "_insert", insert_then_fail)

    requests = [_charge(f"c{i}") for i in range(5)]
    answers = _run_held_up(client_a, requests, when_queued=fail_the_group)

    assert answers[0][0][1] is True  # the first, written alone before the failure
    assert all(isinstance(error, OperationalError) for _, error in answers[1:])
    assert list(Charge.objects.values_list("charge_id", flat=True)) == ["c0"]
    assert Account.objects.get(client=client_a).balance == 9_00
    assert Event.objects.filter(type="charge.completed").count() == 1
    assert coalesce._lines == {}  # the line was handed on and closed: the next charge is written
    assert coalesce.post_charge(client=client_a, request=_charge("after"), now=NOW)[1] is True


@pytest.mark.django_db(transaction=True)
def test_a_repeat_refused_for_money_in_a_group_is_answered_as_a_repeat(client_a):
    fund(client_a, 1_00)
    stored = coalesce.post_charge(client=client_a, request=_charge("stored"), now=NOW)[0]  # nothing left
    requests = [
        _charge("first"),  # written alone: refused
        _charge("stored"),  # a repeat of a stored charge, the wallet empty: the stored charge, as alone
        _charge("stored", product="other"),  # its id with another body: a conflict, as alone
        _charge("none"),  # refused
    ]
    answers = _run_held_up(client_a, requests, when_queued=lambda: None)

    assert isinstance(answers[0][1], InsufficientFunds)
    assert answers[1][1] is None and answers[1][0][1] is False and answers[1][0][0].pk == stored.pk
    assert isinstance(answers[2][1], IdempotencyConflict)
    assert isinstance(answers[3][1], InsufficientFunds)
    assert list(Charge.objects.values_list("charge_id", flat=True)) == ["stored"]
    assert Account.objects.get(client=client_a).balance == 0


@pytest.mark.django_db(transaction=True)
def test_a_failure_after_the_group_committed_fails_only_the_charges_answered_after_it(client_a, monkeypatch):
    fund(client_a, 10_00)
    coalesce.post_charge(client=client_a, request=_charge("stored"), now=NOW)

    def lost(prepared):
        raise OperationalError("the connection was lost")

    requests = [_charge("first"), _charge("a"), _charge("stored"), _charge("b")]
    answers = _run_held_up(
        client_a, requests, when_queued=lambda: monkeypatch.setattr(batch, "write_prepared_charge", lost)
    )

    assert answers[0][0][1] is True
    assert answers[1][1] is None and answers[1][0][1] is True  # committed with the group: answered 201
    assert isinstance(answers[2][1], OperationalError)  # the repeat, answered after the group, failed
    assert answers[3][1] is None and answers[3][0][1] is True
    assert set(Charge.objects.values_list("charge_id", flat=True)) == {"stored", "first", "a", "b"}
