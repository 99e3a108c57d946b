"""Signed webhooks: the event feed pushed to integrators' endpoints, in feed order per endpoint.

An endpoint keeps its own position in the feed (`after_xid`, `after_event_id`), as a pull reader
keeps its cursor. Nothing is added to the charge path: a dispatcher janitor looks every few seconds
for endpoints with events past their position (or a retry that is due) and defers one delivery job
per endpoint (a queueing lock keeps at most one waiting, a lock runs them one at a time). That job
takes the next event the endpoint wants, writes a delivery row (write first), then posts it, signed,
outside any transaction, and writes the attempt's outcome. At most one delivery of an endpoint is
PENDING (a unique index says so): the next event waits until it is delivered or given up.

Delivery is at least once: a worker killed mid-call leaves the attempt without an outcome, and the
job runs again and posts the same event (same `Billy-Event-Id`) again. Receivers dedup by event id.
"""
