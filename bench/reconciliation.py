"""Reconciliation of a month for 100,000 clients (by hand, never in the test suite).

    .venv/bin/python bench/reconciliation.py [--clients 100000] [--charges 3]

Recreates the scratch database `billy_bench_reconciliation` (on DATABASE_URL's server, default
postgresql://postgres@127.0.0.1:5432), migrates it and seeds, with set-based SQL, one workspace
(Europe/Moscow) and `--clients` clients, each with a wallet bound to a wallet order: `--charges`
charges per client in November 2026 plus one in October (real ledger transactions and entries
against the revenue account), the reports billy would have sent (October's total as of October's
end, November's as of November's end), the acts Balance would have formed and Balance's consumed
totals. Some clients are made to differ, so that every reason shows: 1 % not reported yet, 0.5 %
changed in Balance, 0.5 % without an act, 0.5 % reported after Balance closed November.

Then it times `reconcile_month` (the one set-based statement that writes every line) twice, and
prints the clients, the mismatches and the amount per reason.
"""

from __future__ import annotations

import argparse
import time

from scratch import scratch_billy

DB = "billy_bench_reconciliation"


SEED = [
    (
        "clients",
        """INSERT INTO client (workspace_id, service_client_id, balance_client_id, name, email, phone, status,
                               attention_reason, created_at, updated_at)
           SELECT %(ws)s, 'c' || g, g, 'Клиент ' || g, 'c' || g || '@example.ru', '+74951234567', 'ACTIVE', '',
                  %(t0)s, %(t0)s
             FROM generate_series(1, %(n)s) g""",
    ),
    (
        "wallets",
        """INSERT INTO ledger_account (workspace_id, kind, client_id, currency, balance, held, credit_limit,
                                       credit_used, net_consumption, created_at)
           SELECT %(ws)s, 'WALLET', c.id, 'RUB', 1000000000000, 0, 0, 0, 0, %(t0)s
             FROM client c WHERE c.workspace_id = %(ws)s""",
    ),
    (
        "charges (ledger transactions)",
        """INSERT INTO ledger_transaction (workspace_id, kind, description, source, created_at)
           SELECT %(ws)s, 'CHARGE', '', jsonb_build_object('charge_id', 'b' || g),
                  CASE WHEN g <= %(n)s THEN %(october)s
                       ELSE %(november)s + make_interval(secs => (g %% 2500000)) END
             FROM generate_series(1, %(n)s * (%(k)s + 1)) g""",
    ),
    (
        "charges (ledger entries)",
        """WITH w AS (SELECT min(id) AS first FROM ledger_account WHERE kind = 'WALLET' AND workspace_id = %(ws)s),
                t AS (SELECT id, created_at, substr(source->>'charge_id', 2)::bigint AS g FROM ledger_transaction
                       WHERE workspace_id = %(ws)s)
           INSERT INTO ledger_entry (transaction_id, account_id, amount, currency, created_at)
           SELECT t.id, leg.account, leg.amount, 'RUB', t.created_at
             FROM t, w, LATERAL (VALUES (w.first + (t.g %% %(n)s), -(100 + t.g %% 997)),
                                        (%(revenue)s, 100 + t.g %% 997)) AS leg(account, amount)""",
    ),
    (
        "net consumption",
        """UPDATE ledger_account a SET net_consumption = s.total, balance = a.balance - s.total
             FROM (SELECT account_id, -sum(amount) AS total FROM ledger_entry e
                     JOIN ledger_account w ON w.id = e.account_id AND w.kind = 'WALLET' GROUP BY 1) s
            WHERE a.id = s.account_id""",
    ),
    (
        "wallet orders",
        """INSERT INTO consumption_order (workspace_id, wallet_id, order_id, reported_total, reported_as_of,
                                          reported_at, last_error, balance_total, balance_read_at, created_at)
           SELECT %(ws)s, a.id, 1000000 + a.client_id, 0, NULL, NULL, '', NULL, NULL, %(t0)s
             FROM ledger_account a WHERE a.kind = 'WALLET' AND a.workspace_id = %(ws)s""",
    ),
    (
        "monthly totals",
        """CREATE TEMP TABLE totals AS
           SELECT o.wallet_id, o.order_id, o.id AS n,
                  sum(-e.amount) FILTER (WHERE t.created_at < %(november)s) AS october,
                  sum(-e.amount) FILTER (WHERE t.created_at >= %(november)s) AS november
             FROM consumption_order o JOIN ledger_entry e ON e.account_id = o.wallet_id
             JOIN ledger_transaction t ON t.id = e.transaction_id
            GROUP BY o.wallet_id, o.order_id, o.id""",
    ),
    (
        "reports",
        """INSERT INTO consumption_report (workspace_id, wallet_id, order_id, consumed_total, as_of, sent_at, code)
           SELECT %(ws)s, wallet_id, order_id, october, %(november)s - interval '1 second', %(november)s - interval
                  '1 second', 'SUCCESS' FROM totals
           UNION ALL
           SELECT %(ws)s, wallet_id, order_id, october + november - CASE WHEN n %% 100 = 1 THEN 100 ELSE 0 END,
                  %(december)s - interval '1 second',
                  CASE WHEN n %% 200 = 7 THEN %(december)s + interval '1 hour'
                       ELSE %(december)s - interval '1 second' END, 'SUCCESS'
             FROM totals""",
    ),
    (
        "acts",
        """INSERT INTO consumption_act (workspace_id, client_id, balance_act_id, number, act_date, amount, vat,
                                        currency, balance_contract_id, order_id, fetched_at)
           SELECT %(ws)s, a.client_id, 2 * o.n + m.k, 'Y-' || (2 * o.n + m.k), m.day,
                  m.amount, m.amount / 6, 'RUB', o.order_id, o.order_id, %(t0)s
             FROM totals o JOIN ledger_account a ON a.id = o.wallet_id,
                  LATERAL (VALUES (0, DATE '2026-10-31', o.october),
                                  (1, DATE '2026-11-30', o.november
                                      - CASE WHEN o.n %% 100 = 1 THEN 100 ELSE 0 END
                                      - CASE WHEN o.n %% 200 = 7 THEN 100 + o.n %% 997 ELSE 0 END
                                      + CASE WHEN o.n %% 200 = 3 THEN 500 ELSE 0 END)) AS m(k, day, amount)
            WHERE m.k = 0 OR o.n %% 200 <> 5""",
    ),
    (
        "orders' totals",
        """UPDATE consumption_order o
              SET reported_total = t.october + t.november - CASE WHEN t.n %% 100 = 1 THEN 100 ELSE 0 END,
                  reported_as_of = %(december)s - interval '1 second', reported_at = %(december)s,
                  balance_total = t.october + t.november - CASE WHEN t.n %% 100 = 1 THEN 100 ELSE 0 END
                                  + CASE WHEN t.n %% 200 = 3 THEN 500 ELSE 0 END,
                  balance_read_at = %(december)s
             FROM totals t WHERE t.wallet_id = o.wallet_id""",
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--charges", type=int, default=3, help="charges per client in November")
    args = parser.parse_args()
    with scratch_billy(DB):
        run(args)


def run(args) -> None:
    import datetime as dt
    import zoneinfo

    from django.db import connection, transaction

    from billy.charges.operations import revenue_account
    from billy.consumption import queries, reconciliation
    from billy.core import clock
    from billy.core.money import format_amount
    from billy.workspaces import operations as workspaces

    msk = zoneinfo.ZoneInfo("Europe/Moscow")
    november = dt.datetime(2026, 11, 1, tzinfo=msk)
    params = {
        "n": args.clients,
        "k": args.charges,
        "t0": dt.datetime(2026, 9, 1, tzinfo=dt.UTC),
        "october": dt.datetime(2026, 10, 15, tzinfo=msk),
        "november": november,
        "december": dt.datetime(2026, 12, 1, tzinfo=msk),
    }
    ws = workspaces.upsert_workspace(
        name="c2b",
        title="C2B",
        balance_service_id=1001,
        balance_integration="c2b",
        balance_configuration="c2b_default",
        now=clock.now(),
    )
    params["ws"] = ws.pk
    params["revenue"] = revenue_account(ws.pk, "RUB", clock.now()).pk
    started = time.monotonic()
    with connection.cursor() as cursor:
        for what, sql in SEED:
            t = time.monotonic()
            with transaction.atomic():
                cursor.execute(sql, params)
            print(f"seeded {what}: {cursor.rowcount} rows in {time.monotonic() - t:.1f} s", flush=True)
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM ledger_entry")
        entries = cursor.fetchone()[0]
    print(f"seeded in {time.monotonic() - started:.0f} s: {args.clients} clients, {entries} ledger entries\n")
    for attempt in (1, 2):
        t = time.monotonic()
        run = reconciliation.reconcile_month(workspace=ws, month=november.date(), now=clock.now())
        elapsed = time.monotonic() - t
        print(
            f"reconcile_month, run {attempt}: {elapsed:.1f} s for {run.clients} clients, "
            f"{run.mismatches} mismatches (ledger {format_amount(run.ledger_total)}, "
            f"reported {format_amount(run.reported_total)}, acts {format_amount(run.act_total)})"
        )
    for reason, lines, amount in queries.reason_totals(reconciliation=run):
        print(f"  {reason:20} {lines:7} clients  {format_amount(amount):>12} RUB")


if __name__ == "__main__":
    main()
