"""Family accounts: an owner and members share a family card, each member with a spending limit
per frame (a calendar month in the workspace's time zone).

billy is the authority for membership, limits and usage. A member's limit is a money rule, so it
lives in the ledger (`billy.ledger.limits`): a spending reserves its amount against the member's
limit in one guarded statement under the limit's lock, and only then is the card payment system
asked to hold it (write first, then call out). A refused or failed card call releases the
reservation; an unknown outcome is resolved by reading the card system back by the spending's key,
never by a blind repeat. Cleared spending and refunds are ledger transactions with their events.

Modules: `models`; `membership` (families, members, limits, the family card); `spending` (spend,
clear, cancel, refund, expiry); `card_sync` (the one function that applies the card system's view
of a spending); `queries` (reads: families, check_available, payment methods); `tasks` (jobs).
"""
