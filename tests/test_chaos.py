"""The randomized fault run (bench/chaos) for one minute with a fixed seed, and its checks.

The run starts its own `billy dev` (a private PostgreSQL cluster in a temporary directory, free
ports) as a subprocess, so nothing here forks a process that runs gRPC threads.
"""

import subprocess
import sys

import psycopg
import pytest

from billy.charges import operations as charge_operations
from billy.core import clock
from tests.charges.conftest import fund, make_client
from tests.conftest import ROOT, database_url_for_children

sys.path.insert(0, str(ROOT / "bench"))

from chaos_checks import check_answers
from chaos_ops import Answer, Journal

# Its schedule: Balance delays and commit-then-timeouts, lost and delayed webhooks, the Auth API
# timing out, the card payment system answering 500 (family card spendings are among the
# operations), provider refunds failing and pending, billy worker killed and a PostgreSQL restart
# (bench/chaos --seed 12 --minutes 1 prints it).
SEED = 12
# The run's own bound: a minute of load, then the janitors; only a failure comes near it.
RUN_TIMEOUT = 1200


@pytest.mark.timeout(RUN_TIMEOUT + 60)
def test_a_minute_of_faults_finds_nothing():
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "chaos.py"), "--seed", str(SEED), "--minutes", "1", "--threads", "6"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    assert f"seed {SEED}: nothing found" in output
    # It did drive billy and inject faults, not just start and stop.
    assert "charge " in output and "injected" in output


def _charge_answer(charge_id: str, amount: str, outcome: str = "ok") -> Answer:
    ids = {"client": "client-1", "charge_id": charge_id, "amount": amount, "hold": False}
    return Answer("charge", "http", outcome, "201" if outcome == "ok" else "422", ids=ids)


def _journal(*answers: Answer) -> Journal:
    journal = Journal()
    for answer in answers:
        journal.add(answer)
    return journal


def test_the_checks_pass_answers_the_final_state_agrees_with(workspace):
    client = make_client(workspace)
    fund(client, 10_000)
    request = charge_operations.ChargeRequest(charge_id="ch-1", product="chaos", amount=250)
    charge_operations.post_charge(client=client, request=request, now=clock.now())

    journal = _journal(_charge_answer("ch-1", "2.50"), _charge_answer("ch-2", "1.00", outcome="refused"))
    with psycopg.connect(database_url_for_children(), autocommit=True) as db:
        assert check_answers(db, journal) == []


def test_the_checks_find_answers_the_final_state_contradicts(workspace):
    client = make_client(workspace)
    fund(client, 10_000)
    for charge_id in ("ch-1", "ch-refused"):
        request = charge_operations.ChargeRequest(charge_id=charge_id, product="chaos", amount=250)
        charge_operations.post_charge(client=client, request=request, now=clock.now())

    journal = _journal(
        _charge_answer("ch-1", "3.00"),  # billy holds 2.50
        _charge_answer("ch-missing", "1.00"),  # answered ok, never stored
        _charge_answer("ch-refused", "2.50", outcome="refused"),  # refused, yet stored
    )
    with psycopg.connect(database_url_for_children(), autocommit=True) as db:
        findings = check_answers(db, journal)
    assert [f.split(" ", 2)[:2] for f in findings] == [
        ["charge", "ch-1"],
        ["charge", "ch-missing"],
        ["charge", "ch-refused"],
    ]
