"""Card subscriptions: a user pays for a plan by card at the payment provider and can get money back.

Never a double charge, and every operation completes:
- Subscribe commits a PENDING subscription and a NEW payment (with the job that calls the provider)
  before the provider is called; the payment's id is the provider's `Idempotence-Key` and is in the
  provider payment's metadata, so a lost answer is retried with the same key and body or found.
- Only one subscription per user and plan is PENDING (a second subscribe returns it) and only one
  ACTIVE; only one refund per payment is PENDING or SUCCEEDED (never twice).
- Provider answers arrive by the create call, webhooks (stored, deduplicated, then re-read from the
  provider: a webhook's body is never trusted) or the janitor's re-read; all of them go through
  `record_provider_payment` / `record_provider_refund`, which lock the row and only move it forward.
- A succeeded payment posts provider clearing → revenue and activates the subscription for its
  period; a succeeded refund posts the reverse and marks it REFUNDED. Both append events.
- Granting and revoking the plan's role in the Auth API, and notifying the user, are jobs deferred in
  the same transaction, keyed by billy's ids; grant and revoke of one subscription share a job lock,
  so they run in the order they were deferred.

Renewal: the first payment asks the provider to save the card; a period's end minus a lead time,
the saved card pays for the next period (`renewals`), at most one payment of a period being in
flight or paid (a unique index) and its id, the provider's key, derived from (subscription, period,
attempt). A decline makes the subscription PAST_DUE and retries on a schedule (`periods`); renewal
is turned off and on by `renewal_switch`. Money that comes when the subscription cannot take it is
refunded automatically.

States: subscription PENDING → ACTIVE ⇄ PAST_DUE → EXPIRED | REFUNDED, or PENDING → CANCELED
(payment failed); payment NEW → PENDING → SUCCEEDED | FAILED, one per period (and attempt);
refund PENDING → SUCCEEDED | FAILED.

Writes, one module per concern: `plans` (periods, refund policy), `subscribe` (subscribe, and
subscribe once per Idempotency-Key), `payments`, `periods` (what a payment's outcome does to the
subscription: first period, renewal, dunning, late money), `renewals`, `renewal_switch`, `refunds`,
`provider_notifications` (the webhook inbox), `access` (role grants and revokes, user
notifications), `expiry`, `janitor`; `provider` is
the workspace's shop and the bookkeeping of calls to it. Reads are in `queries`. Jobs are in
`tasks`, which imports the operations; the operations defer jobs by name, never importing `tasks`.
"""
