"""Posting one signed event to a receiver, over HTTP with httpx, and what came of it.

The call never raises for what the receiver did: a status, a timeout or a refused connection is an
outcome, recorded in the delivery log. Redirects are not followed (a 3xx is not a delivery), and
the answer's body is never read: a receiver's status is all billy needs.
"""

from __future__ import annotations

import functools
import ssl
import time
from dataclasses import dataclass

import httpx

USER_AGENT = "billy-webhooks/1"
MAX_ERROR_LENGTH = 512


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    error: str
    latency_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context per process: making one loads the CA bundle, which costs more than
    a delivery to a nearby receiver."""
    return httpx.create_ssl_context()


def post_event(*, url: str, body: bytes, headers: dict[str, str], timeout: float) -> SendResult:
    """POST `body` to `url` with `headers`; the receiver's status, or why there is none."""
    started = time.monotonic()
    try:
        with (
            httpx.Client(
                timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), follow_redirects=False, verify=_tls()
            ) as http,
            http.stream(
                "POST",
                url,
                content=body,
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
            ) as response,
        ):
            status, error = response.status_code, ""
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as e:  # ValueError: e.g. a host name IDNA refuses
        status, error = None, f"{type(e).__name__}: {e}"[:MAX_ERROR_LENGTH]
    return SendResult(status_code=status, error=error, latency_ms=int((time.monotonic() - started) * 1000))
