"""Idempotency-Key store: every mutating call honours the header.

A call that creates something the consumer does not name (subscribe, refund a subscription) needs
a key. Any other mutating call takes one too (`answer_with_key`): a resource the consumer names
(`charge_id`, `refund_id`, `adjustment_id`, a client's id) makes a repeat safe without a key, and
with one the key must go with the same body, its id included, and replays the first answer.
billy keeps, per workspace and operation, the key, a fingerprint of the request and, once the
call has an answer, its status and body. The same key with the same request replays that answer;
with another request it is `idempotency_conflict`. A key is held for the length of its call (a
PostgreSQL session advisory lock, in any process): a second call with the key waits for the first
to answer and then replays that answer, so concurrent calls all get the first answer, status
included. A call that waits longer than BILLY_IDEMPOTENCY_WAIT_SECONDS is 409 `in_progress` with
Retry-After. A key whose first call never got as far as an answer (it crashed, or an upstream was
down) runs again: the operations behind such keys are idempotent themselves (one pending
subscription per user and plan, one refund per payment), so a rerun finds what the first run made.
Keys are kept at least 7 days (BILLY_IDEMPOTENCY_KEY_DAYS).
"""
