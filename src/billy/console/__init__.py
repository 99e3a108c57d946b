"""The operator console: the admin's dashboard over every workspace (money moved today, this month
and day by day, holds about to expire, failing jobs, upstreams reachable or not).

A transport like the HTTP API: its view reads through the apps' `queries` (the ledger's daily
figures, the charges' expiring holds, the task queue's trouble) and the integrations' probe, and
renders them; it writes nothing. Its links lead into the apps' own admin pages.
"""
