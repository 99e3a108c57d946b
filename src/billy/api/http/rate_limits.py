"""Per-source rate limits of unauthenticated endpoints (the provider webhooks), with django-ratelimit.

The counters live in Django's cache `rate_limit` (a database cache table, so every gunicorn worker
and every host counts together); a window is fixed (django-ratelimit's), and a refused request is
`429 rate_limited` with `Retry-After` (also in `details.retry_after`): the seconds left in the window.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_ratelimit.core import get_usage

from billy.core.errors import BillyError


class RateLimited(BillyError):
    code = "rate_limited"
    default_message = "Too many requests from this source; retry after Retry-After seconds."


def _source(group: str, request: HttpRequest) -> str:
    # The peer's address as the server saw it (behind a proxy: the proxy's). django-ratelimit's own
    # "ip" key raises on an empty REMOTE_ADDR (a Unix socket); that would be a 500.
    return request.META.get("REMOTE_ADDR") or "unknown"


def check_rate(request: HttpRequest, *, group: str, rate: str) -> None:
    """Count one request from the request's source address in `group`, at most `rate` ("60/m",
    "10/s", "100/5m"; empty: no limit). Raises RateLimited past the limit.

    A source already past its limit is refused on a read: refusals, the bulk of a flood, write
    nothing and take no lock."""
    if not rate:
        return
    for increment in (False, True):
        usage = get_usage(request, group=group, key=_source, rate=rate, increment=increment)
        if usage is None:
            return  # the cache failed: let it through (RATELIMIT_FAIL_OPEN)
        if usage["count"] + (0 if increment else 1) > usage["limit"]:
            retry_after = max(1, usage["time_left"])
            raise RateLimited(details={"retry_after": retry_after, "limit": rate}, retry_after=retry_after)
