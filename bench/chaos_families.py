"""The fault run's family accounts: spendings on the taxi's demo family card (which `billy dev`
seeds), the card payment system's faults, and the checks that no member went past a limit and
that billy's reservations match the card system's holds.

Kept apart from chaos_ops.py and chaos_checks.py, which call in here: an actor's family steps are
`spend` (a new spending by the limited or the unlimited member) and `settle` (clear part of an open
one, cancel it, or clear it and refund part).
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import httpx

TAXI = "taxi"
MEMBERS = ("taxi-kid", "taxi-partner")  # 1,000.00 a month, and unlimited (see billy.dev)
FAULT_KINDS = ("unavailable", "error", "delay", "commit_then_timeout", "down")

# What "nothing is pending" looks at for families (counts that must reach zero).
PENDING = {
    "family spendings PENDING": "SELECT count(*) FROM family_spending WHERE status = 'PENDING'",
    "family spendings with a clear or cancel under way": "SELECT count(*) FROM family_spending"
    " WHERE status = 'HELD' AND (clear_amount IS NOT NULL OR cancel_reason <> '')",
    "family refunds PENDING": "SELECT count(*) FROM family_spending_refund WHERE status = 'PENDING'",
}


def fault_params(rng: random.Random, hang_seconds: float) -> dict[str, Any]:
    fault = rng.choice(FAULT_KINDS)
    seconds = {"delay": round(rng.uniform(0.2, 2), 1), "commit_then_timeout": hang_seconds}.get(fault, 0)
    if fault == "down":
        seconds = round(rng.uniform(2, 8), 1)
    return {"kind": fault, "count": rng.randint(1, 3), "seconds": seconds}


def spend(actor) -> None:
    family = actor.env["family"]
    spending_id = actor._id("fs")
    user_id = actor.rng.choice(MEMBERS)
    body = {"spending_id": spending_id, "user_id": user_id, "amount": actor._money(100, 15000)}
    path = f"/workspaces/{TAXI}/families/{family}/spendings"
    answer = actor._http("family_spend", "POST", path, {"spending_id": spending_id, **body}, json=body)
    if answer.outcome == "ok" and answer.body["status"] == "HELD":
        actor.family_open.append(spending_id)


def settle(actor) -> None:
    if not actor.family_open:
        return spend(actor)
    spending_id = actor.family_open.pop(0)
    base = f"/workspaces/{TAXI}/families/{actor.env['family']}/spendings/{spending_id}"
    ids = {"spending_id": spending_id}
    choice = actor.rng.choice(("clear", "cancel", "clear_refund"))
    if choice == "cancel":
        answer = actor._http("family_cancel", "POST", base + "/cancel", ids, json={})
    else:
        answer = actor._http("family_clear", "POST", base + "/clear", ids, json={})
        if answer.outcome == "ok" and choice == "clear_refund":
            refund = {"refund_id": actor._id("fr"), "amount": "1.00"}
            actor._http("family_refund", "POST", base + "/refunds", {**ids, **refund}, json=refund)
    if answer.outcome == "unknown":
        actor.family_open.append(spending_id)  # the client comes back to it later


def check(db, env: dict[str, str], journal) -> list[str]:
    """No member past a limit; every limit's usage equals its spendings; billy's spendings and the
    card system's payments agree (holds, clears, refunds; no payment billy does not know of); every
    answer agrees with the final state."""
    findings = [
        f"limit #{limit_id} used {used} of {cap} in the frame from {frame}"
        for limit_id, frame, used, cap in db.execute(
            "SELECT u.limit_id, u.frame_start, u.held + u.spent, l.amount FROM ledger_limit_usage u"
            " JOIN ledger_spending_limit l ON l.id = u.limit_id"
            " WHERE l.amount IS NOT NULL AND u.held + u.spent > l.amount"
        )
    ]
    findings += [
        f"limit #{limit_id} from {frame}: usage held {held} spent {spent}, spendings say {want_held} and {want_spent}"
        for limit_id, frame, held, spent, want_held, want_spent in db.execute(
            """
            SELECT u.limit_id, u.frame_start, u.held, u.spent,
                   coalesce(sum(s.amount) FILTER (WHERE s.status IN ('PENDING', 'HELD')), 0),
                   coalesce(sum(s.cleared_amount - s.refunded_amount) FILTER (WHERE s.status = 'CLEARED'), 0)
              FROM ledger_limit_usage u
              LEFT JOIN family_spending s ON s.limit_id = u.limit_id AND s.frame_start = u.frame_start
             GROUP BY 1, 2, 3, 4
            HAVING u.held <> coalesce(sum(s.amount) FILTER (WHERE s.status IN ('PENDING', 'HELD')), 0)
                OR u.spent <> coalesce(sum(s.cleared_amount - s.refunded_amount) FILTER (WHERE s.status = 'CLEARED'), 0)
            """
        )
    ]
    payments = {p["key"]: p for p in httpx.get(env["cards"] + "/_emulator/payments", timeout=30).json()["payments"]}
    spendings = {
        f"spending-{pk}": (spending_id, status, amount, cleared, refunded)
        for pk, spending_id, status, amount, cleared, refunded in db.execute(
            "SELECT id, spending_id, status, amount, cleared_amount, refunded_amount FROM family_spending"
        )
    }
    for key, (spending_id, status, amount, cleared, refunded) in spendings.items():
        payment = payments.get(key)
        if payment is None:
            if status != "FAILED":
                findings.append(f"spending {spending_id} is {status} in billy; the card system has no payment")
            continue
        card = (payment["status"], _minor(payment["amount"]), _minor(payment["cleared_amount"]))
        card_refunded = sum(_minor(r["amount"]) for r in payment["refunds"])
        if (status, amount, cleared, refunded) != (*card, card_refunded):
            findings.append(
                f"spending {spending_id}: billy {status} {amount}/{cleared}/{refunded},"
                f" card system {card[0]} {card[1]}/{card[2]}/{card_refunded}"
            )
    findings += [f"a card payment billy does not know of: {key}" for key in set(payments) - set(spendings)]
    transactions = db.execute("SELECT count(*) FROM ledger_transaction WHERE kind = 'FAMILY_SPENDING'").fetchone()[0]
    cleared = db.execute("SELECT count(*) FROM family_spending WHERE cleared_amount > 0").fetchone()[0]
    if transactions != cleared:
        findings.append(f"{transactions} FAMILY_SPENDING transactions for {cleared} cleared spendings")
    return findings + _answers(db, journal)


def _answers(db, journal) -> list[str]:
    rows = dict(db.execute("SELECT spending_id, status FROM family_spending").fetchall())
    by_id = defaultdict(set)
    for a in journal.answers:
        if a.op == "family_spend":
            by_id[a.ids["spending_id"]].add(a.outcome)
    findings = []
    for spending_id, outcomes in by_id.items():
        status = rows.get(spending_id)
        if "ok" in outcomes and status in (None, "FAILED"):
            findings.append(f"spending {spending_id} was answered ok but billy has it {status}")
        if outcomes == {"refused"} and status is not None:
            findings.append(f"spending {spending_id} was refused but billy has it {status}")
    return findings


def _minor(amount: str) -> int:
    units, _, cents = amount.partition(".")
    return int(units) * 100 + int((cents + "00")[:2])
