"""`billy reconcile` as an operator runs it: acts fetched first, a progress bar, a summary table."""

from __future__ import annotations

import subprocess

from billy.consumption.models import Act, Reconciliation
from tests.conftest import START_TIMEOUT, billy_process

from .conftest import msk


def run_billy(*args: str, balance_url: str) -> subprocess.CompletedProcess:
    process = billy_process(
        *args, env={"BALANCE_URL": balance_url}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    stdout, stderr = process.communicate(timeout=START_TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_billy_reconcile_fetches_the_month_acts_and_prints_a_summary(books, balance_emulator):
    books.charge("c1", 100_00, msk(11, 10))
    books.report(msk(11, 10, 13))
    books.charge("c2", 5_00, msk(11, 11))  # never reported
    books.control.close_month("2026-11")

    result = run_billy("reconcile", "--month", "2026-11", "--workspace", "c2b", balance_url=balance_emulator.url)

    assert result.returncode == 0, result.stderr
    header, row, reason = result.stdout.splitlines()
    assert header.split() == ["workspace", "month", "clients", "mismatches", "ledger", "reported", "acts", "currency"]
    assert row.split() == ["c2b", "2026-11", "1", "1", "105.00", "100.00", "100.00", "RUB"]
    assert reason == "c2b: NOT_YET_REPORTED: 1 clients, 5.00 RUB"
    assert "c2b: fetching acts [" in result.stderr and "] 1/1" in result.stderr
    assert Act.objects.filter(client=books.client).count() == 1
    assert Reconciliation.objects.get().mismatches == 1


def test_billy_reconcile_refuses_a_malformed_month(books, balance_emulator):
    result = run_billy("reconcile", "--month", "11-2026", balance_url=balance_emulator.url)
    assert result.returncode != 0
    assert "invalid_month" in result.stderr


def test_billy_reconcile_refuses_a_month_outside_the_years_2000_to_2999(books, balance_emulator):
    result = run_billy("reconcile", "--month", "9999-12", balance_url=balance_emulator.url)
    assert result.returncode != 0
    assert "invalid_month" in result.stderr and "Traceback" not in result.stderr
