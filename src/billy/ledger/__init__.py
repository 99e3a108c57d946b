"""The double-entry ledger: accounts, transactions and entries in minor units.

Every money movement is one ledger transaction whose entries sum to zero per currency; the
database checks that at commit (a deferred constraint trigger) and refuses any UPDATE or DELETE of
a posted entry. A client's wallet is an account with a posted `balance`, a `held` amount and a
`credit_limit` (0 until postpay credit is moved in explicitly); available = balance - held can
never go below zero: the same UPDATE that moves the money checks it, and a CHECK constraint stands
behind it. The wallet also keeps `net_consumption` (charged minus refunded), which equals the sum
of its CHARGE and REFUND entries. System accounts (revenue, corrections) keep no running balance,
so charges on different wallets never queue on one row; their balance is the sum of their entries.

`postings` is the ledger's one writer: every movement of money (charges, holds, refunds,
adjustments, card payments) goes through it, with its event, and it holds the one definition of
available money that every movement is checked against. `credit_limit` is shown but not spent:
postpay credit reaches a wallet only through an explicit transfer, which will be a movement there.
"""
