"""The fault run's money in from Balance: the actors' operations, the faults, the final check.

- `contract`: a registered client gets a payer and a contract, prepay or postpay (limit drawn);
- `invoice`: a prepay client's invoice, paid on Balance's page in part or in full (as a person does);
- `credit`: a postpay client's transfer from its credit limit (often more than is left);
- faults on the Balance emulator's money methods (unavailable, 500, a commit whose answer is lost)
  and on its notifications (lost, repeated, reordered);
- the check: every bound wallet order's money in billy (what its contract booked, and the wallet's
  TOP_UP and CREDIT entries) equals what the emulator shows paid and credited for it; no wallet's
  credit used passes its limit; every transfer that answered SUCCEEDED is a deposit in Balance.
"""

from __future__ import annotations

import random
from typing import Any

import httpx

C2B = "c2b"
PAYER = {
    "type": "LEGAL",
    "name": "ООО Хаос",
    "inn": "7707083893",
    "kpp": "773601001",
    "email": "chaos@example.com",
    "phone": "+74951234567",
    "legal_address": "Москва, ул. Льва Толстого, 16",
}
WEIGHTS = {"contract": 3, "invoice": 6, "credit": 4}
FAULT_WEIGHT = 4
_METHODS = ("CreatePerson", "CreateOffer", "CreateInvoice", "DepositFromCredit", "GetOrdersInfo", None)
_NOTIFICATION_FAULTS = ("lose_notification", "repeat_notification", "reorder_notification")
# Pending work of money in that must reach zero before the checks.
PENDING = {
    # A contract whose PUT never reached Balance waits for its caller, as a client does; one in
    # Balance waits only for its personal account.
    "contracts not bound": "SELECT count(*) FROM contract WHERE status = 'PENDING' AND balance_contract_id IS NOT NULL",
    "invoices PENDING": "SELECT count(*) FROM invoice WHERE status = 'PENDING'",
    "credit transfers PENDING": "SELECT count(*) FROM credit_transfer WHERE status = 'PENDING'",
    "Balance notifications RECEIVED": "SELECT count(*) FROM balance_notification WHERE status = 'RECEIVED'",
}


def fault_params(rng: random.Random) -> dict[str, Any]:
    """A fault of money in: on a Balance method, or on the next notifications."""
    kind = rng.choice(("unavailable", "error", "commit_then_timeout", *_NOTIFICATION_FAULTS))
    method = None if kind in _NOTIFICATION_FAULTS else rng.choice(_METHODS)
    return {"kind": kind, "count": rng.randint(1, 3), "times": rng.randint(2, 4), "method": method}


def fault_spec(params: dict[str, Any], hang_seconds: float) -> dict[str, Any]:
    """What the emulator's `POST /_emulator/faults` takes for these params."""
    spec = {"kind": params["kind"], "count": params["count"], "method": params["method"]}
    if params["kind"] == "repeat_notification":
        spec["times"] = params["times"]
    if params["kind"] == "commit_then_timeout":
        spec["seconds"] = hang_seconds
    return spec


class MoneyInOps:
    """The actors' money-in operations (mixed into chaos_ops.Actor: uses its rng, ids, _http, journal)."""

    def _money_client(self, payment_type: str) -> str | None:
        with self.journal.lock:
            chosen = [c for c, t in self.journal.contracts.items() if t == payment_type]
        return self.rng.choice(chosen) if chosen else None

    def op_contract(self) -> None:
        client = self._client()
        with self.journal.lock:
            if client is None or client in self.journal.contracts:
                return
        payment_type = self.rng.choice(("PREPAY", "POSTPAY"))
        ids = {"client": client}
        base = f"/workspaces/{C2B}/clients/{client}"
        if self._http("contract.payer", "PUT", base + "/payers/payer-1", ids, json=PAYER).outcome != "ok":
            return
        terms = {"payer_id": "payer-1", "payment_type": payment_type, "start_date": "2026-01-01"}
        if payment_type == "POSTPAY":
            terms |= {"credit_limit": self._money(100_000, 500_000), "payment_term_days": 15}
        if self._http("contract", "PUT", base + "/contracts/main", ids, json=terms).outcome == "ok":
            with self.journal.lock:
                self.journal.contracts[client] = payment_type

    def op_invoice(self) -> None:
        client = self._money_client("PREPAY")
        if client is None:
            return self.op_contract()
        amount = self._money(10_000, 300_000)
        ids = {"client": client, "invoice_id": self._id("inv"), "amount": amount}
        path = f"/workspaces/{C2B}/clients/{client}/invoices"
        answer = self._http("invoice", "POST", path, ids, json={"invoice_id": ids["invoice_id"], "amount": amount})
        url = (answer.body or {}).get("payment_url")
        if answer.outcome != "ok" or not url:
            return
        minor = int(amount.replace(".", ""))
        paid = minor if self.rng.random() < 0.6 else self.rng.randint(1, minor)
        try:  # a person paying on Balance's page
            httpx.post(url + "/pay", data={"amount": f"{paid // 100}.{paid % 100:02d}"}, timeout=30)
        except httpx.HTTPError:
            pass  # the emulator may be down for a moment: the person gives up

    def op_credit(self) -> None:
        client = self._money_client("POSTPAY")
        if client is None:
            return self.op_contract()
        ids = {"client": client, "transfer_id": self._id("tr"), "amount": self._money(10_000, 200_000)}
        path = f"/workspaces/{C2B}/clients/{client}/wallet/credit-transfers"
        body = {"transfer_id": ids["transfer_id"], "amount": ids["amount"]}
        self._http("credit", "POST", path, ids, json=body)
        with self.journal.lock:
            self.journal.transfers.append(ids["transfer_id"])


def check_money_in(db, env: dict[str, str], journal) -> list[str]:
    findings = []
    orders = {o["OrderID"]: o for o in httpx.get(env["balance"] + "/_emulator/orders", timeout=30).json()["orders"]}
    rows = db.execute(
        """
        SELECT c.contract_id, cl.service_client_id, c.wallet_order_id, c.booked_paid, c.booked_credit,
               coalesce((SELECT sum(e.amount) FROM ledger_entry e JOIN ledger_transaction t ON t.id = e.transaction_id
                          WHERE e.account_id = a.id AND t.kind IN ('TOP_UP', 'CREDIT')), 0),
               a.credit_limit, a.credit_used
          FROM contract c JOIN client cl ON cl.id = c.client_id
          LEFT JOIN ledger_account a ON a.client_id = c.client_id
         WHERE c.status = 'ACTIVE'
        """
    ).fetchall()
    for _contract, client, order_id, paid, credit, entries, limit, used in rows:
        order = orders.get(order_id)
        if order is None:
            findings.append(f"client {client}: wallet order {order_id} is not in Balance")
            continue
        shown = _minor(order["PaidTotal"]) + _minor(order["CreditTotal"])
        if paid + credit != shown or entries != shown:
            findings.append(
                f"client {client}: Balance shows {shown} paid and credited on order {order_id}; billy booked "
                f"{paid + credit}, the wallet's top-ups sum to {entries}"
            )
        if used is not None and used > limit:
            findings.append(f"client {client}: credit used {used} is over the limit {limit}")
    succeeded = {
        r[0] for r in db.execute("SELECT transfer_id FROM credit_transfer WHERE status = 'SUCCEEDED'").fetchall()
    }
    refs = {
        d.get("ExternalRef", "").split("/", 1)[-1]
        for d in httpx.get(env["balance"] + "/_emulator/deposits", timeout=30).json()["deposits"]
    }
    findings += [f"credit transfer {t} is SUCCEEDED with no deposit in Balance" for t in sorted(succeeded - refs)]
    findings += [f"a deposit in Balance ({t}) is no SUCCEEDED transfer in billy" for t in sorted(refs - succeeded)]
    for a in journal.answers:
        if a.op == "credit" and a.outcome == "ok" and a.ids["transfer_id"] not in succeeded:
            findings.append(f"credit transfer {a.ids['transfer_id']} answered {a.status} but is not SUCCEEDED")
    return findings


def _minor(amount: str) -> int:
    units, _, cents = amount.partition(".")
    return int(units) * 100 + int((cents + "00")[:2])
