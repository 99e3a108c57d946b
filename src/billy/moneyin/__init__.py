"""Money in from Balance: prepay invoices, Balance's payment notifications, credit transfers.

One path books money from Balance onto a wallet (`booking`): the increase of the wallet order's
PaidTotal and CreditTotal, as Balance reports them, over what billy has booked for that order, kept
on the contract row and changed in the same transaction as the ledger posting, under the row's
lock. Every trigger goes through it: a NotifyOrder (stored first, then a job re-reads the order),
the janitor's poll of orders whose notification may be lost, a credit transfer Balance confirmed.
So a repeated, late, lost or forged notification can neither book twice nor book what Balance
does not show.

- `invoices`: a prepay invoice in one call (CreateRequest + CreateInvoice, write first);
- `notifications`: NotifyOrder stored raw, deduplicated by (order, seq), authenticated by the
  workspace's secret in the URL and an optional network allowlist;
- `booking` and `refresh`: the one booking path, and the re-read of an order that feeds it (with
  its invoices' statuses, Balance's credit invoices and the credit used);
- `credit`: a transfer from the postpay contract's credit limit (DepositFromCredit, write first;
  the limit is reserved in the ledger before the call).
"""
