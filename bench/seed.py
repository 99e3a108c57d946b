"""Seed the bench database: workspace c2b, N active clients with funded wallets.

Run by bench/run through `billy manage shell -c "$(cat bench/seed.py)"`, configured by env:
BENCH_CLIENTS (10000), BENCH_WALLET_OFFSET (10000000: wallet id = client id + offset),
BENCH_CAPTURE_CLIENT_ID (client pk of the "capture" client), BENCH_FUND (minor units per wallet),
BENCH_FUND_WITH (sql|orm: set-based SQL mirroring adjust_wallet, or adjust_wallet itself per wallet).
"""

import json
import os
import time

from django.db import connection, transaction

from billy.clients.models import Client
from billy.core import clock
from billy.core.timestamps import format_timestamp
from billy.ledger.models import Account, Adjustment, LedgerTransaction
from billy.ledger.operations import adjust_wallet
from billy.workspaces.operations import upsert_workspace

N = int(os.environ.get("BENCH_CLIENTS", "10000"))
OFFSET = int(os.environ.get("BENCH_WALLET_OFFSET", "10000000"))
CAPTURE_ID = int(os.environ.get("BENCH_CAPTURE_CLIENT_ID", "7654321"))
FUND = int(os.environ.get("BENCH_FUND", str(10**15)))  # minor units: 10 trillion roubles each
FUND_WITH = os.environ.get("BENCH_FUND_WITH", "sql")
REASON = "bench funding"
ACTOR = "bench"

t0 = time.monotonic()
now = clock.now()
ws = upsert_workspace(
    name="c2b",
    title="C2B (bench)",
    balance_service_id=1000,
    balance_integration="c2b_bench",
    balance_configuration="c2b_bench_conf",
    now=now,
)


def client_row(pk, service_client_id):
    return Client(
        pk=pk,
        workspace=ws,
        service_client_id=service_client_id,
        balance_client_id=900_000_000 + pk,
        name=f"Bench client {service_client_id}",
        email=f"{service_client_id}@bench.example",
        phone="+74951234567",
        status=Client.Status.ACTIVE,
        created_at=now,
        updated_at=now,
    )


def wallet_row(client_pk):
    return Account(
        pk=client_pk + OFFSET,
        workspace=ws,
        kind=Account.Kind.WALLET,
        client_id=client_pk,
        currency=ws.currency,
        created_at=now,
    )


with transaction.atomic():
    Client.objects.bulk_create([client_row(i, f"c{i}") for i in range(1, N + 1)], batch_size=2000)
    Client.objects.bulk_create([client_row(CAPTURE_ID, "capture")])
    Account.objects.bulk_create([wallet_row(i) for i in range(1, N + 1)], batch_size=2000)
    Account.objects.bulk_create([wallet_row(CAPTURE_ID)])
    with connection.cursor() as cur:  # explicit pks do not advance identity sequences
        for table in ("client", "ledger_account"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")

# The capture client is funded by adjust_wallet itself: the reference the set-based SQL must match.
capture = Client.objects.get(pk=CAPTURE_ID)
adjust_wallet(client=capture, adjustment_id="fund-capture", amount=FUND, reason=REASON, actor=ACTOR, now=now)

if FUND_WITH == "orm":
    for client in Client.objects.filter(workspace=ws).exclude(pk=CAPTURE_ID).select_related("workspace"):
        adjust_wallet(
            client=client, adjustment_id=f"fund-{client.pk}", amount=FUND, reason=REASON, actor=ACTOR, now=now
        )
else:
    # What adjust_wallet does, for every wallet at once: a ledger transaction ADJUSTMENT, two entries
    # (wallet +FUND, corrections -FUND), the Adjustment row, the wallet's balance, a wallet.adjusted
    # event. The zero-sum constraint trigger checks every transaction at COMMIT.
    corrections = Account.objects.get(workspace=ws, kind=Account.Kind.CORRECTIONS, currency=ws.currency, client=None)
    with transaction.atomic(), connection.cursor() as cur:
        params = {
            "ws": ws.pk,
            "now": now,
            "fund": FUND,
            "reason": REASON,
            "actor": ACTOR,
            "corr": corrections.pk,
            "capture": CAPTURE_ID,
            "cur": ws.currency,
        }
        cur.execute(
            """
            CREATE TEMP TABLE bench_fund ON COMMIT DROP AS
            SELECT a.id AS wallet_id, c.service_client_id, c.id AS client_id,
                   nextval(pg_get_serial_sequence('ledger_transaction', 'id')) AS tx_id
              FROM ledger_account a JOIN client c ON c.id = a.client_id
             WHERE a.workspace_id = %(ws)s AND a.kind = 'WALLET' AND c.id <> %(capture)s
             ORDER BY a.id
            """,
            params,
        )
        cur.execute(
            """
            INSERT INTO ledger_transaction (id, workspace_id, kind, description, source, created_at)
            SELECT tx_id, %(ws)s, 'ADJUSTMENT', %(reason)s, jsonb_build_object('adjustment_id', 'fund-' || client_id),
                   %(now)s
              FROM bench_fund ORDER BY tx_id;
            UPDATE ledger_account a SET balance = a.balance + %(fund)s FROM bench_fund f WHERE a.id = f.wallet_id;
            INSERT INTO ledger_entry (transaction_id, account_id, amount, currency, created_at)
            SELECT tx_id, acc, amt, %(cur)s, %(now)s
              FROM bench_fund,
                   LATERAL (VALUES (wallet_id, %(fund)s::bigint), (%(corr)s::bigint, -%(fund)s::bigint)) v(acc, amt)
             ORDER BY tx_id;
            INSERT INTO ledger_adjustment (workspace_id, adjustment_id, wallet_id, amount, currency, reason,
                                           transaction_id, created_by, created_at)
            SELECT %(ws)s, 'fund-' || client_id, wallet_id, %(fund)s, %(cur)s, %(reason)s, tx_id, %(actor)s, %(now)s
              FROM bench_fund ORDER BY tx_id;
            INSERT INTO event (workspace_id, type, data, created_at)
            SELECT %(ws)s, 'wallet.adjusted',
                   jsonb_build_object('adjustment_id', 'fund-' || client_id, 'client', service_client_id,
                                      'amount', %(amount_text)s, 'currency', %(cur)s, 'at', %(now_iso)s),
                   %(now)s
              FROM bench_fund ORDER BY tx_id;
            """,
            {**params, "amount_text": f"{FUND // 100}.{FUND % 100:02d}", "now_iso": format_timestamp(now)},
        )

# The set-based rows must look exactly like adjust_wallet's (same event keys, same shapes).
with connection.cursor() as cur:
    cur.execute(
        """
        SELECT e.data, (SELECT count(*) FROM ledger_entry x WHERE x.transaction_id = a.transaction_id),
               t.kind, t.description
          FROM ledger_adjustment a JOIN ledger_transaction t ON t.id = a.transaction_id
          JOIN event e ON e.type = 'wallet.adjusted' AND e.data->>'adjustment_id' = a.adjustment_id
         WHERE a.adjustment_id IN ('fund-capture', 'fund-1') ORDER BY a.adjustment_id
        """
    )
    rows = cur.fetchall()
    assert len(rows) == 2, rows
    (d1, n1, k1, s1), (dc, nc, kc, sc) = rows
    d1, dc = (json.loads(d) if isinstance(d, str) else d for d in (d1, dc))
    assert sorted(d1) == sorted(dc) and (n1, k1, s1) == (nc, kc, sc), ("SQL funding differs from adjust_wallet", rows)
    assert d1["amount"] == dc["amount"], rows
    cur.execute(
        """
        SELECT count(*) FROM ledger_account a
         WHERE a.kind = 'WALLET'
           AND a.balance <> (SELECT coalesce(sum(amount), 0) FROM ledger_entry e WHERE e.account_id = a.id)
        """
    )
    assert cur.fetchone()[0] == 0, "a wallet's balance is not the sum of its entries"
    cur.execute("SELECT count(*) FROM (SELECT 1 FROM ledger_entry GROUP BY transaction_id HAVING sum(amount) <> 0) x")
    assert cur.fetchone()[0] == 0, "an unbalanced ledger transaction"
    cur.execute("ANALYZE")

print(
    f"seeded {Client.objects.filter(workspace=ws).count()} clients, "
    f"{Adjustment.objects.count()} adjustments, {LedgerTransaction.objects.count()} transactions "
    f"({FUND_WITH}) in {time.monotonic() - t0:.1f}s"
)
