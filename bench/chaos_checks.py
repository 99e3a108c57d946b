"""The fault run's checks, once the janitors are done: billy's database, the emulators and the answers.

Each check returns findings (one line each); none means it held.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import chaos_consumption
import chaos_families
import chaos_migration
import httpx
import psycopg
from chaos_moneyin import PENDING as MONEY_IN_PENDING
from chaos_moneyin import check_money_in
from chaos_ops import C2B, CINEMA, Journal
from chaos_renewals import PENDING_RENEWALS, check_renewals
from chaos_webhooks import PENDING as WEBHOOKS_PENDING

from billy.dev import DEMO_PAYER

# What "nothing is pending" looks at: a count that must reach zero.
PENDING = {
    "jobs waiting or running": "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')",
    "clients PENDING": "SELECT count(*) FROM client WHERE status = 'PENDING'",
    "holds HELD": "SELECT count(*) FROM charge WHERE status = 'HELD'",
    "subscriptions PENDING": "SELECT count(*) FROM subscription WHERE status = 'PENDING'",
    "card payments NEW or PENDING": "SELECT count(*) FROM subscription_payment WHERE status IN ('NEW', 'PENDING')",
    "card refunds PENDING": "SELECT count(*) FROM subscription_refund WHERE status = 'PENDING'",
    **PENDING_RENEWALS,
    **WEBHOOKS_PENDING,
    **MONEY_IN_PENDING,
    **chaos_families.PENDING,
    **chaos_consumption.PENDING,
    **chaos_migration.PENDING,
}


def minor(amount: str) -> int:
    sign = -1 if amount.startswith("-") else 1
    units, _, cents = amount.lstrip("-").partition(".")
    return sign * (int(units) * 100 + int((cents + "00")[:2]))


def pending(db: psycopg.Connection) -> dict[str, int]:
    """What is still pending in billy (only the non-zero counts)."""
    counts = {name: db.execute(sql).fetchone()[0] for name, sql in PENDING.items()}
    return {name: n for name, n in counts.items() if n}


def check_all(db: psycopg.Connection, env: dict[str, str], journal: Journal, left: dict[str, int]) -> list[str]:
    """`left`: what was still pending when the wait for the janitors ended."""
    findings: list[str] = []
    findings += [f"pending at the end: {n} {name}" for name, n in left.items()]
    findings += check_ledger(db)
    findings += check_wallets(db, journal)
    findings += check_balance(db, env, journal)
    findings += check_yookassa(db, env)
    findings += check_renewals(db, env)
    findings += check_roles(db, env)
    findings += check_answers(db, journal)
    findings += check_money_in(db, env, journal)
    findings += chaos_families.check(db, env, journal)
    findings += chaos_consumption.check(db, env)
    findings += chaos_migration.check(db, env)
    return findings


def check_ledger(db) -> list[str]:
    unbalanced = db.execute(
        "SELECT transaction_id, currency, sum(amount) FROM ledger_entry GROUP BY 1, 2 HAVING sum(amount) <> 0"
    ).fetchall()
    # A periodic janitor's run (its only argument is the `timestamp` Procrastinate gives it) has no
    # retry: one that meets a database restart fails, and the next minute's run does its work.
    # Those are listed by `failed_janitor_runs`, not counted as findings.
    failed = db.execute(
        "SELECT id, task_name FROM procrastinate_jobs WHERE status = 'failed' AND NOT args ? 'timestamp'"
    ).fetchall()
    return [f"ledger transaction {t} does not sum to zero in {c}: {s}" for t, c, s in unbalanced] + [
        f"job {i} ({name}) failed for good" for i, name in failed
    ]


def failed_janitor_runs(db) -> list[str]:
    rows = db.execute(
        "SELECT task_name, count(*) FROM procrastinate_jobs WHERE status = 'failed' AND args ? 'timestamp' GROUP BY 1"
    ).fetchall()
    return [f"{n} run(s) of {task}" for task, n in rows]


def check_wallets(db, journal: Journal) -> list[str]:
    findings = []
    rows = db.execute(
        """
        SELECT a.id, a.balance, a.held,
               coalesce((SELECT sum(e.amount) FROM ledger_entry e WHERE e.account_id = a.id), 0),
               coalesce((SELECT sum(c.amount) FROM charge c WHERE c.wallet_id = a.id AND c.status = 'HELD'), 0)
        FROM ledger_account a WHERE a.kind = 'WALLET'
        """
    ).fetchall()
    for wallet, balance, held, entries, holds in rows:
        if balance != entries:
            findings.append(f"wallet {wallet}: balance {balance} but its entries sum to {entries}")
        if held != holds:
            findings.append(f"wallet {wallet}: held {held} but its HELD charges sum to {holds}")
        if held < 0 or balance < held:
            findings.append(f"wallet {wallet}: balance {balance}, held {held}: available below zero")
    guard = db.execute(
        "SELECT convalidated FROM pg_constraint WHERE conname = 'account_available_not_negative'"
    ).fetchone()
    if guard is None or not guard[0]:
        findings.append("the database no longer guards wallets against going below zero")
    for client, view in journal.wallet_views:
        if any(minor(view[f]) < 0 for f in ("balance", "held", "available")):
            findings.append(f"an answer showed client {client}'s wallet below zero: {view}")
    return findings


def check_balance(db, env: dict[str, str], journal: Journal) -> list[str]:
    """One Balance client per registration, linked once, with the id billy keeps."""
    findings = []
    in_balance = httpx.get(env["balance"] + "/_emulator/clients", timeout=30).json()["clients"]
    by_name = defaultdict(list)
    for client in in_balance:
        by_name[client["NAME"]].append(client)
    billy = {
        sid: (status, balance_id)
        for sid, status, balance_id in db.execute(
            "SELECT service_client_id, c.status, balance_client_id FROM client c JOIN workspace w"
            " ON w.id = c.workspace_id WHERE w.name = %s",
            (C2B,),
        )
    }
    for sid, data in journal.registrations.items():
        copies = by_name.get(data["name"], [])
        status, balance_id = billy.get(sid, (None, None))
        if status != "ACTIVE":
            findings.append(f"client {sid} is {status or 'missing'} in billy after its registration was retried")
        if len(copies) != 1:
            findings.append(f"client {sid} has {len(copies)} clients in Balance")
        elif copies[0]["CLIENT_ID"] != balance_id:
            findings.append(f"client {sid}: billy keeps Balance id {balance_id}, Balance has {copies[0]['CLIENT_ID']}")
        elif copies[0].get("links") != [{"integration": C2B, "configuration": "c2b_default"}]:
            findings.append(f"client {sid}: configuration links in Balance are {copies[0].get('links')}")
    # billy dev's own demo client (c2b's client-1, ready to take money) is not the run's.
    demo = len(by_name.get(DEMO_PAYER["name"], []))
    strangers = len(in_balance) - demo - sum(len(by_name.get(d["name"], [])) for d in journal.registrations.values())
    if strangers:
        findings.append(f"Balance holds {strangers} clients no registration asked for")
    return findings


def check_yookassa(db, env: dict[str, str]) -> list[str]:
    """One provider payment per billy payment, and the same outcome on both sides (one per period:
    chaos_renewals)."""
    findings = []
    provider = {p["id"]: p for p in httpx.get(env["yookassa"] + "/_emulator/payments", timeout=30).json()["payments"]}
    refunds = httpx.get(env["yookassa"] + "/_emulator/refunds", timeout=30).json()["refunds"]
    per_payment = Counter((p.get("metadata") or {}).get("billy_payment_id") for p in provider.values())
    for billy_payment, n in per_payment.items():
        if n > 1:
            findings.append(f"card payment {billy_payment} has {n} payments at the provider")
    rows = db.execute(
        "SELECT p.id::text, p.status, p.provider_payment_id, p.amount, s.id::text FROM subscription_payment p"
        " JOIN subscription s ON s.id = p.subscription_id"
    ).fetchall()
    billy_ids = set()
    for payment_id, status, provider_id, amount, _subscription_id in rows:
        billy_ids.add(payment_id)
        at_provider = provider.get(provider_id) if provider_id else None
        if at_provider is None:
            if per_payment.get(payment_id) or status == "SUCCEEDED":
                findings.append(f"card payment {payment_id} ({status}) is not linked to its provider payment")
            continue
        if (at_provider.get("metadata") or {}).get("billy_payment_id") != payment_id:
            findings.append(f"card payment {payment_id} is linked to another payment's provider payment")
        expected = {"SUCCEEDED": "succeeded", "FAILED": "canceled"}.get(status)
        if at_provider["status"] != expected:
            findings.append(f"card payment {payment_id} is {status} in billy, {at_provider['status']} at the provider")
        if minor(at_provider["amount"]["value"]) != amount:
            findings.append(f"card payment {payment_id}: {amount} in billy, {at_provider['amount']} at the provider")
    unknown = set(per_payment) - billy_ids
    findings += [f"a provider payment names billy payment {p}, which billy does not have" for p in unknown]
    billy_refunds = {
        provider_id: (status, amount)
        for provider_id, status, amount in db.execute(
            "SELECT provider_refund_id, status, amount FROM subscription_refund WHERE provider_refund_id IS NOT NULL"
        )
    }
    for refund in refunds:
        status, amount = billy_refunds.get(refund["id"], (None, None))
        expected = {"succeeded": "SUCCEEDED", "canceled": "FAILED"}.get(refund["status"])
        if status != expected or amount != minor(refund["amount"]["value"]):
            findings.append(f"provider refund {refund['id']} is {refund['status']}; billy: {status} {amount}")
    orphans = set(billy_refunds) - {r["id"] for r in refunds}
    findings += [f"billy's refund {r} does not exist at the provider" for r in orphans]
    return findings


def check_roles(db, env: dict[str, str]) -> list[str]:
    """The subscriber role is granted exactly to the users with an ACTIVE (or PAST_DUE) subscription."""
    roles = httpx.get(env["auth"] + "/_emulator/roles", params={"scope": CINEMA}, timeout=30).json()["roles"]
    granted = {r["user_id"] for r in roles if "subscriber" in r["roles"]}
    active = {
        u for (u,) in db.execute("SELECT DISTINCT user_id FROM subscription WHERE status IN ('ACTIVE', 'PAST_DUE')")
    }
    return [f"user {u} has an ACTIVE subscription but not the role" for u in sorted(active - granted)] + [
        f"user {u} has the role without an ACTIVE subscription" for u in sorted(granted - active)
    ]


def check_answers(db, journal: Journal) -> list[str]:
    """Every answer a client got agrees with the final state."""
    findings = [
        f"{a.op} over {a.transport} answered {a.status} {a.code}: {a.ids}"
        for a in journal.answers
        if a.outcome == "error"
    ]
    charges = {
        r[0]: r
        for r in db.execute(
            "SELECT ch.charge_id, c.service_client_id, ch.amount, ch.hold, ch.status, ch.captured, ch.refunded,"
            " ch.cancel_reason, coalesce((SELECT sum(amount) FROM refund r WHERE r.charge_id = ch.id), 0)"
            " FROM charge ch JOIN client c ON c.id = ch.client_id"
        )
    }
    refunds = {
        r[0]: r
        for r in db.execute(
            "SELECT r.refund_id, ch.charge_id, r.amount FROM refund r JOIN charge ch ON ch.id = r.charge_id"
        )
    }
    adjustments = {r[0]: r for r in db.execute("SELECT a.adjustment_id, a.amount FROM ledger_adjustment a")}
    by_charge: dict[str, list] = defaultdict(list)
    for a in journal.answers:
        if "charge_id" in a.ids and a.op in ("charge", "charge.replay", "hot", "hold", "hold.replay", "batch.item"):
            by_charge[a.ids["charge_id"]].append(a)
    for charge_id, answers in by_charge.items():
        row = charges.get(charge_id)
        ids = answers[0].ids
        outcomes = {a.outcome for a in answers}
        if outcomes == {"refused"} and row is not None:
            findings.append(f"charge {charge_id} was refused ({answers[0].code}) but exists")
        if "ok" in outcomes and row is None:
            findings.append(f"charge {charge_id} was answered {answers[0].status} but does not exist")
        if row is None:
            continue
        _, client, amount, hold, status, captured, refunded, reason, refund_sum = row
        if (client, amount, hold) != (ids["client"], minor(ids["amount"]), ids["hold"]):
            findings.append(f"charge {charge_id} is {(client, amount, hold)}, asked {ids}")
        if refunded != refund_sum or refunded > captured:
            findings.append(
                f"charge {charge_id}: refunded {refunded}, its refunds sum to {refund_sum}, captured {captured}"
            )
        if not hold and (status, captured) != ("COMPLETED", amount):
            findings.append(f"charge {charge_id} is {status} with {captured} captured, not COMPLETED")
    hold_answers: dict[str, list] = defaultdict(list)
    for a in journal.answers:
        if a.op in ("confirm", "cancel"):
            hold_answers[a.ids["charge_id"]].append(a)
    for charge_id, fate in journal.holds.items():
        row = charges.get(charge_id)
        if row is None:
            continue
        _, _, amount, _, status, captured, _, reason, _ = row
        settled = hold_answers.get(charge_id, [])
        confirmed = [a for a in settled if a.op == "confirm" and a.outcome == "ok"]
        cancelled = [a for a in settled if a.op == "cancel" and a.outcome == "ok"]
        if confirmed:
            want = minor(confirmed[0].ids["amount"]) if confirmed[0].ids["amount"] else amount
            if (status, captured) != ("COMPLETED", want):
                findings.append(f"hold {charge_id}: confirm answered ok for {want}, it is {status} with {captured}")
        elif cancelled and status != "CANCELLED":
            findings.append(f"hold {charge_id}: cancel answered ok, it is {status}")
        elif fate == "expire" and (status, reason) != ("CANCELLED", "EXPIRED"):
            findings.append(f"hold {charge_id} was left to expire; it is {status} ({reason})")
        elif not settled and fate != "expire" and status == "COMPLETED":
            findings.append(f"hold {charge_id} was never confirmed but is COMPLETED")
        if (
            any(a.op == "confirm" and a.outcome == "refused" for a in settled)
            and not confirmed
            and status == "COMPLETED"
        ):
            findings.append(f"hold {charge_id}: confirm was refused, yet it is COMPLETED")
    for a in journal.answers:
        if a.op == "refund":
            row = refunds.get(a.ids["refund_id"])
            if a.outcome == "ok" and (
                row is None or row[1] != a.ids["charge_id"] or (a.ids["amount"] and row[2] != minor(a.ids["amount"]))
            ):
                findings.append(f"refund {a.ids['refund_id']} answered {a.status}; billy has {row}")
            if a.outcome == "refused" and row is not None:
                findings.append(f"refund {a.ids['refund_id']} was refused ({a.code}) but exists")
        elif a.op == "fund":
            row = adjustments.get(a.ids["adjustment_id"])
            if a.outcome == "ok" and (row is None or row[1] != minor(a.ids["amount"])):
                findings.append(f"adjustment {a.ids['adjustment_id']} answered {a.status}; billy has {row}")
            if a.outcome == "refused" and row is not None:
                findings.append(f"adjustment {a.ids['adjustment_id']} was refused ({a.code}) but exists")
    findings += _check_subscriptions(db, journal)
    return findings


def _check_subscriptions(db, journal: Journal) -> list[str]:
    findings = []
    rows = {
        r[0]: r
        for r in db.execute(
            "SELECT s.id::text, s.user_id, s.status, (SELECT count(*) FROM subscription_refund f"
            " WHERE f.subscription_id = s.id) FROM subscription s"
        )
    }
    users = defaultdict(list)
    for row in rows.values():
        users[row[1]].append(row)
    for key, sub in journal.subscriptions.items():
        answered = {sid for _, sid in sub.get("answers", [])}
        if len(answered) > 1:
            findings.append(f"subscribe with key {key} answered different subscriptions: {sorted(answered)}")
        mine = users.get(sub["user"], [])
        if answered and not answered <= {r[0] for r in mine}:
            findings.append(f"subscribe with key {key} answered {sorted(answered)}; billy has {[r[0] for r in mine]}")
        if len(mine) > 1:
            findings.append(f"user {sub['user']} has {len(mine)} subscriptions from one subscribe key")
        for _, _, status, _ in mine:
            expected = {"pay": ("ACTIVE", "PAST_DUE", "REFUNDED"), "decline": ("CANCELED",), "abandon": ("CANCELED",)}[
                sub["decision"]
            ]
            if status not in expected:
                findings.append(f"user {sub['user']} chose to {sub['decision']}; the subscription is {status}")
    for a in journal.answers:
        if a.op.startswith("refund_subscription") and a.outcome in ("ok", "refused"):
            row = rows.get(a.ids["subscription"])
            if a.outcome == "ok" and (row is None or row[3] == 0 or row[2] not in ("REFUNDED", "ACTIVE", "PAST_DUE")):
                findings.append(f"refund of subscription {a.ids['subscription']} answered {a.status}; billy has {row}")
    return findings


def hot_wallet_figure(db) -> str:
    """How the charges of the hot bursts (`Actor.op_hot`) were written: the database transactions
    that wrote their ledger transactions (a row's xmin); fewer than the charges means billy wrote
    some of them together."""
    charges, transactions = db.execute(
        "SELECT count(*), count(DISTINCT t.xmin::text) FROM charge ch"
        " JOIN ledger_transaction t ON t.id = ch.transaction_id WHERE ch.charge_id LIKE %s",
        ["%-hot%"],
    ).fetchone()
    return f"hot wallets: {charges} charges of bursts written by {transactions} database transactions"
