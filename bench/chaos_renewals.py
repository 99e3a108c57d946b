"""Renewals in the fault run: subscriptions renew within the run, some cards decline at renewal, and
the end check holds billy's ledger to the provider's payments.

The run sets the renewal lead past two months, so a monthly subscription's renewal is due at once,
twice (its second period still ends within the lead; its third does not), and a yearly one's not at
all; retries of declined renewals come seconds apart. The renewal janitor runs every minute, so
renewals meet every fault of the schedule, a killed worker and a database restart included.
"""

from __future__ import annotations

import zlib
from collections import Counter

import httpx

# What `billy dev` runs with (bench/chaos.py adds it to the environment).
RENEWAL_ENV = {
    "BILLY_RENEWAL_LEAD_SECONDS": str(70 * 24 * 3600),
    "BILLY_RENEWAL_RETRY_SECONDS": "15,30",
}
# A card that pays on the page, is saved, and declines every renewal (insufficient funds).
DECLINES_AT_RENEWAL_CARD = "4000000000000101"
# Renewals still due count as pending: the run waits for the janitor to make them.
PENDING_RENEWALS = {
    "renewals due": "SELECT count(*) FROM subscription WHERE status IN ('ACTIVE', 'PAST_DUE')"
    " AND next_renewal_at <= now()",
}


def card_for(user: str, good_card: str) -> str:
    """The card a paying user pays with: one user in four has one that declines at renewal."""
    return DECLINES_AT_RENEWAL_CARD if zlib.crc32(user.encode()) % 4 == 0 else good_card


def check_renewals(db, env: dict[str, str]) -> list[str]:
    """One succeeded payment per subscription and period at the provider, and the ledger's card
    payments and refunds equal to the provider's succeeded ones."""
    findings = []
    provider = httpx.get(env["yookassa"] + "/_emulator/payments", timeout=30).json()["payments"]
    refunds = httpx.get(env["yookassa"] + "/_emulator/refunds", timeout=30).json()["refunds"]
    period_of = {
        payment_id: (subscription_id, period)
        for payment_id, subscription_id, period in db.execute(
            "SELECT id::text, subscription_id::text, period FROM subscription_payment"
        )
    }
    paid = Counter(
        period_of.get((p.get("metadata") or {}).get("billy_payment_id")) for p in provider if p["status"] == "succeeded"
    )
    findings += [f"subscription {s} period {n} was paid {k} times" for (s, n), k in _known(paid).items() if k > 1]
    findings += _same_money(db, "CARD_PAYMENT", [p for p in provider if p["status"] == "succeeded"], "payments")
    findings += _same_money(db, "CARD_REFUND", [r for r in refunds if r["status"] == "succeeded"], "refunds")
    renewed = db.execute("SELECT count(*) FROM subscription_payment WHERE period > 1").fetchone()[0]
    if renewed == 0 and paid:
        findings.append("no subscription renewed during the run")
    return findings


def _known(paid: Counter) -> Counter:
    return Counter({key: n for key, n in paid.items() if key is not None})


def _same_money(db, kind: str, at_provider: list[dict], what: str) -> list[str]:
    count, total = db.execute(
        "SELECT count(*), coalesce(sum(e.amount), 0) FROM ledger_transaction t"
        " JOIN ledger_entry e ON e.transaction_id = t.id JOIN ledger_account a ON a.id = e.account_id"
        " WHERE t.kind = %s AND a.kind = 'REVENUE'",
        [kind],
    ).fetchone()
    expected = sum(_minor(o["amount"]["value"]) for o in at_provider)
    if (count, abs(total)) != (len(at_provider), expected):
        return [
            f"ledger {kind}: {count} transactions of {abs(total)} in all; provider's succeeded {what}: "
            f"{len(at_provider)} of {expected}"
        ]
    return []


def _minor(amount: str) -> int:
    units, _, cents = amount.partition(".")
    return int(units) * 100 + int((cents + "00")[:2])
