"""Consumption (открутки) reported to Balance, the acts Balance forms from it, and reconciliation.

- `months`: the month rule, stated once: money counts in the month its ledger transaction is
  posted (a hold when it is confirmed, a refund when it is made), months in the workspace's time
  zone, half-open. Every figure by month (reconciliation, reports split at a month end, the chart)
  comes from `month_span` and `CONSUMPTION_ENTRIES`.
- `reporting`: each wallet's cumulative net consumption (the ledger's `net_consumption`) sent to its
  wallet order with UpdateCampaigns. Nothing on the charge path: a job finds the orders whose
  total moved (one join of the wallets with their last report), sends the latest totals in batches
  and keeps every report sent (`Report`, append-only) with its as-of moment, so "what billy reported
  for a month" is derived, never stored twice. A report that spans a month end is split at it, so
  each month's consumption reaches the month's act; while Balance is down nothing is lost: the
  totals simply wait and the next run catches up.
- `acts`: the acts (and, through money in, the credit invoices) Balance formed, fetched with
  GetClientActs and kept append-only.
- `reconciliation`: per client and month, billy's ledger, what billy reported, what Balance
  shows consumed and the act, every difference with a reason; one set-based statement per run.
"""
