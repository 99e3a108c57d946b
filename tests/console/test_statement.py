"""A wallet's statement for a period, from the ledger's entries: opening balance, movements with a
running balance, closing balance; and its page in the admin."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from billy.ledger.queries import account_statement
from tests.conftest import NOW
from tests.console.conftest import adjust, charge

DAY = dt.timedelta(days=1)


@pytest.fixture
def month(history):
    """Around the history of NOW (500.00 in, 120.00 out, 20.00 back): 40.00 in the day before, 15.00
    charged the day after."""
    adjust(history.client, "before", 40_00, at=NOW - DAY)
    charge(history.client, "after", 15_00, at=NOW + DAY)
    return history


def test_statement_of_a_period(month):
    statement = account_statement(account=month.wallet, start=NOW - dt.timedelta(hours=3), end=NOW + DAY / 2)

    assert (statement.opening, statement.credited, statement.debited, statement.closing) == (
        40_00,
        520_00,
        -120_00,
        440_00,
    )
    assert [(line.kind, line.amount, line.balance) for line in statement.lines] == [
        ("ADJUSTMENT", 500_00, 540_00),
        ("CHARGE", -120_00, 420_00),
        ("REFUND", 20_00, 440_00),
    ]
    assert statement.count == 3


def test_closing_balance_of_everything_is_the_wallet_balance(month):
    statement = account_statement(account=month.wallet, start=NOW - 30 * DAY, end=NOW + 30 * DAY)
    month.wallet.refresh_from_db()

    assert statement.opening == 0
    assert statement.closing == month.wallet.balance == 425_00


def test_pages_of_a_long_statement_carry_the_running_balance(month):
    statement = account_statement(account=month.wallet, start=NOW - 30 * DAY, end=NOW + 30 * DAY, limit=2, offset=2)

    assert [(line.amount, line.balance) for line in statement.lines] == [(-120_00, 420_00), (20_00, 440_00)]


def test_a_period_that_ends_before_it_starts_is_refused(month):
    with pytest.raises(ValueError, match="starts before it ends"):
        account_statement(account=month.wallet, start=NOW, end=NOW)


def test_statement_page(operator, month):
    url = f"/admin/ledger/account/{month.wallet.pk}/statement/"

    html = operator.get(url, {"start": "2026-11-23", "end": "2026-11-24"}).content.decode()

    # Days in Moscow: [2026-11-22 21:00 UTC, 2026-11-23 21:00 UTC).
    assert re.search(r'id="opening">40.00 RUB<', html)
    assert re.search(r'id="closing">440.00 RUB<', html)
    assert html.count("<tr>", html.index('id="statement-lines"')) == 4  # a header and three movements
    assert f"/admin/ledger/ledgertransaction/{month.completed.transaction_id}/change/" in html


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2026-11-24", "end": "2026-11-23"},
        {"start": "yesterday", "end": "2026-11-23"},
        {"start": "2026-11-01"},
    ],
)
def test_statement_page_explains_a_bad_period(operator, month, query):
    answer = operator.get(f"/admin/ledger/account/{month.wallet.pk}/statement/", query)

    assert answer.status_code == 200
    assert 'class="errorlist' in answer.content.decode()
    assert 'id="opening"' not in answer.content.decode()


def test_statement_of_an_unknown_account_is_404(operator, month):
    assert operator.get("/admin/ledger/account/999999/statement/").status_code == 404
