"""Is an upstream reachable? A quick HTTP probe of each, side by side, within one short deadline.

It says only whether the system answers at all (any HTTP answer below 500 within the timeout): a
`401` from a provider that wants credentials is reachable; a refused connection, a timeout or a
`5xx` is not. The operator console shows it; nothing in billy decides anything on it.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx


@dataclass(frozen=True)
class Probe:
    name: str
    url: str  # without credentials
    reachable: bool
    detail: str  # "HTTP 200 in 12 ms", "timed out after 1.0 s", "ConnectError: ..."


def shown_url(url: str) -> str:
    """The URL without user, password, query or fragment: what a page may show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def probe(name: str, url: str, *, timeout: float) -> Probe:
    """One GET of `url`, every phase (connect, write, read) within `timeout` seconds."""
    started = time.monotonic()
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=False)
    except httpx.TimeoutException:
        return Probe(name, shown_url(url), False, f"no answer within {timeout:g} s")
    except (httpx.HTTPError, ValueError) as e:
        return Probe(name, shown_url(url), False, f"{type(e).__name__}: {e}"[:200])
    took = (time.monotonic() - started) * 1000
    return Probe(name, shown_url(url), response.status_code < 500, f"HTTP {response.status_code} in {took:.0f} ms")


def probe_all(targets: list[tuple[str, str]], *, timeout: float) -> list[Probe]:
    """Probe (name, url) targets in parallel; returns after at most about `timeout` seconds, a
    target still silent by then counted unreachable (its thread ends by its own timeout)."""
    if not targets:
        return []
    pool = ThreadPoolExecutor(max_workers=len(targets), thread_name_prefix="probe")
    try:
        futures = [pool.submit(probe, name, url, timeout=timeout) for name, url in targets]
        wait(futures, timeout=timeout + 0.5)
        return [
            f.result() if f.done() else Probe(name, shown_url(url), False, f"no answer within {timeout:g} s")
            for f, (name, url) in zip(futures, targets, strict=True)
        ]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
