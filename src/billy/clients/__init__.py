"""Clients: a product service's client, registered in Balance under the service's own id.

Registration writes first and calls out second. The client row (surrogate key, Balance id empty,
status PENDING) is committed before Balance is called, and a per-client advisory lock serialises
registrations, so concurrent identical requests make one `CreateClient`. Balance's CreateClient
has no idempotency key; `balance_call_started_at` records that a create may have reached Balance,
and before creating again billy looks the client up by its data and adopts exactly one match.
Anything else is NEEDS_ATTENTION for an operator: never a silent second Balance client.
Linking to the workspace's Balance configuration is a task deferred in the same transaction that
records the Balance id, attempted at once and retried by the worker until done.
"""
