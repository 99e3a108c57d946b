"""Fixtures for the operator console: an operator logged in to the admin, the clock pinned at NOW,
and a small ledger history (a funded wallet, charges, a refund, a hold) to look at."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from billy.charges import operations as charges
from billy.charges.models import Charge, Refund
from billy.clients.models import Client
from billy.core import clock
from billy.ledger import operations as ledger
from billy.ledger.models import Account, Adjustment
from tests.charges.conftest import make_client
from tests.conftest import NOW

PASSWORD = "operator-password-1"


@pytest.fixture
def pinned_clock(monkeypatch):
    """The edges' clock (admin views read it) at NOW."""
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return NOW


@pytest.fixture
def operator(client, transactional_db):
    """The Django test client, logged in as a superuser."""
    user = get_user_model().objects.create_superuser("operator", "op@example.com", PASSWORD)
    client.force_login(user)
    return client


def charge(client: Client, charge_id: str, amount: int, *, at: dt.datetime = NOW, **fields) -> Charge:
    request = charges.ChargeRequest(charge_id=charge_id, product="placement", amount=amount, **fields)
    return charges.post_charge(client=client, request=request, now=at)[0]


def adjust(client: Client, adjustment_id: str, amount: int, *, at: dt.datetime = NOW) -> Adjustment:
    return ledger.adjust_wallet(
        client=client, adjustment_id=adjustment_id, amount=amount, reason="top-up by invoice", actor="test", now=at
    )[0]


@dataclasses.dataclass(frozen=True)
class History:
    client: Client
    wallet: Account
    top_up: Adjustment
    completed: Charge  # 120.00, then refunded 20.00
    refund: Refund
    held: Charge  # 30.00 held, expiring in an hour


@pytest.fixture
def history(workspace) -> History:
    """In c2b: client-1's wallet topped up with 500.00, charged 120.00 (20.00 refunded), 30.00 held."""
    client = make_client(workspace, "client-1")
    top_up = adjust(client, "invoice-1", 500_00, at=NOW - dt.timedelta(hours=2))
    completed = charge(client, "order-1", 120_00, at=NOW - dt.timedelta(hours=1))
    refund = charges.refund_charge(
        workspace=workspace, charge_id="order-1", refund_id="return-1", amount=20_00, reason="late", now=NOW
    )[0]
    held = charge(client, "order-2", 30_00, hold=True, hold_ttl_seconds=3600)
    completed.refresh_from_db()
    return History(
        client=client,
        wallet=Account.objects.get(client=client),
        top_up=top_up,
        completed=completed,
        refund=refund,
        held=held,
    )
