"""The database itself keeps the ledger honest, whatever SQL writes to it."""

import pytest
from django.db import IntegrityError, connection, transaction

from billy.ledger.models import Account, Entry
from tests.charges.conftest import fund
from tests.conftest import NOW


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def funded(client_a):
    fund(client_a, 100_00)
    return Account.objects.get(client=client_a)


def new_transaction(workspace_id):
    return raw(
        "INSERT INTO ledger_transaction (workspace_id, kind, description, source, created_at) "
        "VALUES (%s, 'ADJUSTMENT', 'raw', '{\"adjustment_id\": \"raw\"}', %s) RETURNING id",
        [workspace_id, NOW],
    )[0][0]


def test_an_unbalanced_transaction_is_refused_at_commit(funded):
    with pytest.raises(IntegrityError, match="does not sum to zero"), transaction.atomic():
        tx = new_transaction(funded.workspace_id)
        raw(
            "INSERT INTO ledger_entry (transaction_id, account_id, amount, currency, created_at) "
            "VALUES (%s, %s, 500, 'RUB', %s)",
            [tx, funded.pk, NOW],
        )
    assert Entry.objects.filter(amount=500).count() == 0


def test_a_balanced_raw_transaction_commits(funded):
    corrections = Account.objects.get(kind=Account.Kind.CORRECTIONS)
    with transaction.atomic():
        tx = new_transaction(funded.workspace_id)
        raw(
            "INSERT INTO ledger_entry (transaction_id, account_id, amount, currency, created_at) "
            "VALUES (%s, %s, 500, 'RUB', %s), (%s, %s, -500, 'RUB', %s)",
            [tx, funded.pk, NOW, tx, corrections.pk, NOW],
        )
    assert Entry.objects.filter(transaction_id=tx).count() == 2


@pytest.mark.parametrize(
    "statement", ["UPDATE ledger_entry SET amount = amount + 1", "DELETE FROM ledger_entry"], ids=["update", "delete"]
)
def test_posted_entries_cannot_be_changed(funded, statement):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        raw(statement)
    assert sorted(Entry.objects.values_list("amount", flat=True)) == [-100_00, 100_00]


def test_an_entry_in_another_currency_than_its_account_is_refused(funded):
    with pytest.raises(IntegrityError), transaction.atomic():
        tx = new_transaction(funded.workspace_id)
        raw(
            "INSERT INTO ledger_entry (transaction_id, account_id, amount, currency, created_at) "
            "VALUES (%s, %s, 5, 'USD', %s), (%s, %s, -5, 'USD', %s)",
            [tx, funded.pk, NOW, tx, funded.pk, NOW],
        )


def test_a_wallet_cannot_go_below_zero_even_by_raw_sql(funded):
    with pytest.raises(IntegrityError), transaction.atomic():
        raw("UPDATE ledger_account SET held = balance + 1 WHERE id = %s", [funded.pk])
