"""Every ledger transaction names what made it: the database refuses one that does not, and the
wallet's transactions show it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from billy.ledger.models import LedgerTransaction
from tests.charges.conftest import fund
from tests.conftest import NOW


def test_the_wallets_transactions_name_their_charges_refunds_and_adjustments(api, client_a):
    fund(client_a, 100_00, adjustment_id="fund-1")
    api.post("/clients/client-1/charges", {"charge_id": "c-1", "product": "p", "amount": "10.00"})
    api.post("/clients/client-1/charges", {"charge_id": "h-1", "product": "p", "amount": "5.00", "hold": True})
    api.post("/charges/h-1/confirm", {"amount": "4.00"})
    api.post("/charges/c-1/refunds", {"refund_id": "r-1", "amount": "3.00"})
    api.post(
        "/charges:batch",
        {"charges": [{"service_client_id": "client-1", "charge_id": "b-1", "product": "p", "amount": "1.00"}]},
    )

    history = api.get("/clients/client-1/wallet/transactions").json()["transactions"]

    assert [(t["kind"], t["amount"], t["charge_id"], t["refund_id"], t["adjustment_id"]) for t in history] == [
        ("CHARGE", "-1.00", "b-1", None, None),
        ("REFUND", "3.00", "c-1", "r-1", None),
        ("CHARGE", "-4.00", "h-1", None, None),
        ("CHARGE", "-10.00", "c-1", None, None),
        ("ADJUSTMENT", "100.00", None, None, "fund-1"),
    ]


@pytest.mark.parametrize(
    ("kind", "source"),
    [
        ("CHARGE", "{}"),
        ("CHARGE", '{"refund_id": "r-1"}'),
        ("REFUND", '{"refund_id": "r-1"}'),
        ("ADJUSTMENT", '{"charge_id": "c-1"}'),
        ("CARD_PAYMENT", '{"payment_id": "p-1"}'),
        ("CARD_REFUND", '{"subscription_id": "s-1", "payment_id": "p-1"}'),
    ],
)
def test_a_transaction_that_does_not_name_its_source_is_refused(client_a, kind, source):
    with pytest.raises(IntegrityError, match="transaction_names_its_source"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ledger_transaction (workspace_id, kind, description, source, created_at) "
                "VALUES (%s, %s, '', %s, %s)",
                [client_a.workspace_id, kind, source, NOW],
            )
    assert LedgerTransaction.objects.count() == 0
