"""The fault run's consumption reporting: settings, what must reach zero, and the final check.

Reporting runs in the run's `billy dev` worker every few seconds, through Balance's faults (the
schedule's Balance faults hit every method, UpdateCampaigns too: unavailable, 500, a commit whose
answer is lost). At the end, after catch-up, every wallet order's consumed total in Balance equals
billy's last accepted report, and that equals the wallet's net consumption, except where a refund
took the total below what Balance already had: Balance refuses a decrease, and billy must have
recorded exactly that refusal (its refused total is the wallet's net consumption).
"""

from __future__ import annotations

import httpx

# A short grace: the run's charges end minutes before its checks, and reports wait this long.
BILLY_SETTINGS = {"BILLY_CONSUMPTION_REPORT_SECONDS": "3", "BILLY_CONSUMPTION_GRACE_SECONDS": "2"}

# Wallets bound to a wallet order whose total has moved and was not yet reported (or refused).
_UNREPORTED = """
SELECT count(*)
  FROM contract c
  JOIN ledger_account a ON a.client_id = c.client_id AND a.currency = c.currency AND a.kind = 'WALLET'
  LEFT JOIN consumption_order o ON o.wallet_id = a.id
 WHERE c.status = 'ACTIVE'
   AND CASE WHEN o.id IS NULL THEN a.net_consumption <> 0
            ELSE a.net_consumption > o.reported_total
                 OR (a.net_consumption < o.reported_total AND o.refused_total IS DISTINCT FROM a.net_consumption)
       END
"""
PENDING = {"wallet orders with consumption not reported": _UNREPORTED}


def _minor(amount: str) -> int:
    sign = -1 if amount.startswith("-") else 1
    units, _, cents = amount.lstrip("-").partition(".")
    return sign * (int(units) * 100 + int((cents + "00")[:2]))


def check(db, env: dict[str, str]) -> list[str]:
    findings = []
    orders = {o["OrderID"]: o for o in httpx.get(env["balance"] + "/_emulator/orders", timeout=30).json()["orders"]}
    rows = db.execute(
        """
        SELECT cl.service_client_id, c.wallet_order_id, a.net_consumption,
               coalesce(o.reported_total, 0), o.refused_total
          FROM contract c JOIN client cl ON cl.id = c.client_id
          JOIN ledger_account a ON a.client_id = c.client_id AND a.currency = c.currency AND a.kind = 'WALLET'
          LEFT JOIN consumption_order o ON o.wallet_id = a.id
         WHERE c.status = 'ACTIVE'
        """
    ).fetchall()
    for client, order_id, net, reported, refused_total in rows:
        order = orders.get(order_id)
        in_balance = _minor(order["ConsumedTotal"]) if order else None
        if in_balance != reported:
            findings.append(
                f"client {client}: Balance shows {in_balance} consumed on order {order_id}, billy reported {reported}"
            )
        if net != reported and not (net < reported and refused_total == net):
            findings.append(f"client {client}: net consumption {net}, reported {reported} (refused {refused_total})")
    if not rows:
        findings.append("no wallet was bound to a wallet order: consumption reporting was not exercised")
    return findings
