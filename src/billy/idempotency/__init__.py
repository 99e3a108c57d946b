"""Idempotency-Key store for calls that create something the consumer does not name.

A consumer sends `Idempotency-Key: <key>` with such a call (subscribe, refund a subscription).
billy keeps, per workspace and operation, the key, a fingerprint of the request and, once the
call has an answer, its status and body. The same key with the same request replays that answer;
with another request it is `idempotency_conflict`. A key whose first call never got as far as an
answer (it crashed, or it is still running) simply runs again: the operations behind such keys are
idempotent themselves (one pending subscription per user and plan, one refund per payment), so a
rerun finds what the first run made. Keys are kept at least 7 days (BILLY_IDEMPOTENCY_KEY_DAYS).
"""
