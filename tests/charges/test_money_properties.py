"""Random sequences of money operations against an independent in-memory model of the rules.

After every step each wallet and charge must equal the model's, every ledger transaction must sum
to zero, available must be >= 0, refunds <= charges, and a repeated call must change nothing.
"""

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.db import connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from billy.charges import operations as charges
from billy.charges.models import Charge
from billy.core.errors import IdempotencyConflict, InvalidState, ValidationFailed
from billy.ledger import operations as ledger
from billy.ledger import postings
from billy.ledger.models import Account
from billy.workspaces.models import Workspace
from tests.charges.conftest import make_client
from tests.conftest import NOW, make_workspace

CLIENTS = ("alice", "bob")
TTL = charges.DEFAULT_HOLD_TTL_SECONDS


@dataclass
class ModelWallet:
    balance: int = 0
    held: int = 0
    consumption: int = 0


@dataclass
class ModelCharge:
    client: str
    amount: int
    hold: bool
    status: str
    expires_at: dt.datetime | None
    body: tuple
    captured: int = 0
    refunded: int = 0
    refund_ids: dict = field(default_factory=dict)


class MoneyMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE refund, charge, ledger_adjustment, ledger_entry, ledger_transaction, "
                "ledger_account, event, client RESTART IDENTITY CASCADE"
            )
        postings.forget_system_accounts()
        self.workspace = Workspace.objects.get(name="c2b")
        self.clients = {name: make_client(self.workspace, name) for name in CLIENTS}
        self.now = NOW
        self.wallets = {name: ModelWallet() for name in CLIENTS}
        self.charges: dict[str, ModelCharge] = {}
        self.adjustments: dict[str, tuple] = {}
        self.refunds: dict[str, tuple] = {}
        self.counter = 0

    def tick(self):
        self.now += dt.timedelta(seconds=1)
        self.counter += 1
        return self.counter

    def available(self, name):
        wallet = self.wallets[name]
        return wallet.balance - wallet.held

    # -- rules ------------------------------------------------------------------------------

    @rule(name=st.sampled_from(CLIENTS), amount=st.integers(-5_000, 20_000).filter(bool))
    def adjust(self, name, amount):
        adjustment_id = f"adj-{self.tick()}"
        if amount < 0 and -amount > self.available(name):
            with pytest.raises(postings.InsufficientFunds):
                ledger.adjust_wallet(
                    client=self.clients[name],
                    adjustment_id=adjustment_id,
                    amount=amount,
                    reason="r",
                    actor="t",
                    now=self.now,
                )
            return
        ledger.adjust_wallet(
            client=self.clients[name], adjustment_id=adjustment_id, amount=amount, reason="r", actor="t", now=self.now
        )
        self.adjustments[adjustment_id] = (name, amount)
        self.wallets[name].balance += amount

    @precondition(lambda self: self.adjustments)
    @rule(data=st.data())
    def repeat_adjustment(self, data):
        adjustment_id = data.draw(st.sampled_from(sorted(self.adjustments)))
        name, amount = self.adjustments[adjustment_id]
        _, created = ledger.adjust_wallet(
            client=self.clients[name], adjustment_id=adjustment_id, amount=amount, reason="r", actor="t", now=self.now
        )
        assert not created
        with pytest.raises(IdempotencyConflict):
            ledger.adjust_wallet(
                client=self.clients[name],
                adjustment_id=adjustment_id,
                amount=amount + 1,
                reason="r",
                actor="t",
                now=self.now,
            )

    @rule(
        name=st.sampled_from(CLIENTS), amount=st.integers(1, 8_000), hold=st.booleans(), product=st.sampled_from("xy")
    )
    def charge(self, name, amount, hold, product):
        charge_id = f"ch-{self.tick()}"
        request = charges.ChargeRequest(charge_id=charge_id, product=product, amount=amount, hold=hold)
        if amount > self.available(name):
            with pytest.raises(postings.InsufficientFunds):
                charges.post_charge(client=self.clients[name], request=request, now=self.now)
            return
        charges.post_charge(client=self.clients[name], request=request, now=self.now)
        wallet = self.wallets[name]
        if hold:
            wallet.held += amount
            status, captured = "HELD", 0
        else:
            wallet.balance -= amount
            wallet.consumption += amount
            status, captured = "COMPLETED", amount
        self.charges[charge_id] = ModelCharge(
            client=name,
            amount=amount,
            hold=hold,
            status=status,
            captured=captured,
            expires_at=self.now + dt.timedelta(seconds=TTL) if hold else None,
            body=(name, product, amount, hold),
        )

    @precondition(lambda self: self.charges)
    @rule(data=st.data())
    def repeat_charge(self, data):
        charge_id = data.draw(st.sampled_from(sorted(self.charges)))
        name, product, amount, hold = self.charges[charge_id].body
        request = charges.ChargeRequest(charge_id=charge_id, product=product, amount=amount, hold=hold)
        _, created = charges.post_charge(client=self.clients[name], request=request, now=self.now)
        assert not created
        with pytest.raises(IdempotencyConflict):
            charges.post_charge(
                client=self.clients[name],
                request=charges.ChargeRequest(charge_id=charge_id, product=product, amount=amount + 1, hold=hold),
                now=self.now,
            )

    @precondition(lambda self: self.charges)
    @rule(data=st.data(), partial=st.booleans())
    def confirm(self, data, partial):
        charge_id = data.draw(st.sampled_from(sorted(self.charges)))
        model = self.charges[charge_id]
        amount = data.draw(st.integers(1, model.amount)) if partial else None
        target = model.amount if amount is None else amount
        if model.status == "COMPLETED" and model.hold and model.captured == target:
            charges.confirm_charge(workspace=self.workspace, charge_id=charge_id, amount=amount, now=self.now)
            return
        if model.status != "HELD":
            with pytest.raises(InvalidState):
                charges.confirm_charge(workspace=self.workspace, charge_id=charge_id, amount=amount, now=self.now)
            return
        charges.confirm_charge(workspace=self.workspace, charge_id=charge_id, amount=amount, now=self.now)
        wallet = self.wallets[model.client]
        wallet.held -= model.amount
        wallet.balance -= target
        wallet.consumption += target
        model.status, model.captured = "COMPLETED", target

    @precondition(lambda self: self.charges)
    @rule(data=st.data())
    def cancel(self, data):
        charge_id = data.draw(st.sampled_from(sorted(self.charges)))
        model = self.charges[charge_id]
        if model.status == "COMPLETED":
            with pytest.raises(InvalidState):
                charges.cancel_charge(workspace=self.workspace, charge_id=charge_id, now=self.now)
            return
        charges.cancel_charge(workspace=self.workspace, charge_id=charge_id, now=self.now)
        if model.status == "HELD":
            self.wallets[model.client].held -= model.amount
            model.status = "CANCELLED"

    @precondition(lambda self: self.charges)
    @rule(data=st.data(), partial=st.booleans())
    def refund(self, data, partial):
        charge_id = data.draw(st.sampled_from(sorted(self.charges)))
        model = self.charges[charge_id]
        refund_id = f"rf-{self.tick()}"
        amount = data.draw(st.integers(1, model.amount)) if partial else None
        call = {
            "workspace": self.workspace,
            "charge_id": charge_id,
            "refund_id": refund_id,
            "amount": amount,
            "reason": "",
            "now": self.now,
        }
        if model.status != "COMPLETED":
            with pytest.raises(InvalidState):
                charges.refund_charge(**call)
            return
        left = model.captured - model.refunded
        refund_amount = left if amount is None else amount
        if refund_amount == 0 or refund_amount > left:
            with pytest.raises(charges.RefundExceedsCharge):
                charges.refund_charge(**call)
            return
        charges.refund_charge(**call)
        _, created = charges.refund_charge(**call)
        assert not created
        model.refunded += refund_amount
        wallet = self.wallets[model.client]
        wallet.balance += refund_amount
        wallet.consumption -= refund_amount

    @rule(days=st.integers(1, 10))
    def time_passes_and_holds_expire(self, days):
        self.now += dt.timedelta(days=days)
        charges.expire_holds(now=self.now)
        for model in self.charges.values():
            if model.status == "HELD" and model.expires_at <= self.now:
                model.status = "CANCELLED"
                self.wallets[model.client].held -= model.amount

    @rule()
    def bad_input_changes_nothing(self):
        with pytest.raises(ValidationFailed):
            charges.post_charge(
                client=self.clients["alice"],
                request=charges.ChargeRequest(charge_id=f"bad-{self.tick()}", product="x", amount=0),
                now=self.now,
            )

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def wallets_match_the_model(self):
        for name, client in self.clients.items():
            wallet = Account.objects.filter(client=client).first()
            figures = (wallet.balance, wallet.held, wallet.net_consumption) if wallet else (0, 0, 0)
            model = self.wallets[name]
            assert figures == (model.balance, model.held, model.consumption), name
            assert figures[0] - figures[1] >= 0

    @invariant()
    def charges_match_the_model(self):
        stored = {c.charge_id: c for c in Charge.objects.all()}
        assert set(stored) == set(self.charges)
        for charge_id, model in self.charges.items():
            charge = stored[charge_id]
            assert (charge.status, charge.captured, charge.refunded) == (model.status, model.captured, model.refunded)
            assert charge.refunded <= charge.captured

    @invariant()
    def the_ledger_balances(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entry "
                "GROUP BY transaction_id, currency HAVING sum(amount) <> 0) t"
            )
            assert cursor.fetchone()[0] == 0
            cursor.execute(
                """
                SELECT count(*) FROM ledger_account a
                 WHERE a.kind = 'WALLET' AND (
                   a.balance <> (SELECT coalesce(sum(amount), 0) FROM ledger_entry e WHERE e.account_id = a.id)
                   OR a.net_consumption <> -(SELECT coalesce(sum(e.amount), 0) FROM ledger_entry e
                        JOIN ledger_transaction t ON t.id = e.transaction_id
                       WHERE e.account_id = a.id AND t.kind IN ('CHARGE', 'REFUND')))
                """
            )
            assert cursor.fetchone()[0] == 0


@pytest.mark.timeout(900)  # shrinking a failure takes minutes; a pass takes seconds
def test_money_rules_hold_for_random_operation_sequences(transactional_db, jobs_cleanup):
    make_workspace("c2b")
    run_state_machine_as_test(
        MoneyMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            database=None,
        ),
    )
