"""Charges ("applied services"): client A bought product X at T for N.

A charge is named by the consumer's `charge_id` (unique in the workspace: the idempotency key) and
either completes at once (a ledger transaction wallet → revenue) or holds the money first
(`HELD`: the wallet's `held` grows, nothing is posted) until it is confirmed for at most the held
amount (the rest is released), cancelled, or expires. Refunds, named by `refund_id`, post the
reverse transaction and never exceed what was charged. Every step appends an event.

State machine: HELD → COMPLETED (confirm) | CANCELLED (cancel, expiry); a charge made without a
hold is COMPLETED at once. Repeating a create, confirm or cancel with the same arguments returns
the charge as it is; a transition the state no longer allows is `invalid_state`.
"""
