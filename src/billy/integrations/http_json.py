"""What billy's HTTP JSON adapters (the card payment system, the identity provider) share: one call
and the sorting of its outcome into "nothing happened", "it may have happened" and "refused".

Connection refused and 503 (and 429, told apart when the adapter has a class for it) mean nothing
was done; a timeout, a dropped connection, another 5xx or an unreadable answer mean the outcome is
unknown; a 4xx is a refusal with the service's `{"error": {"code", "message"}}` code.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx


@dataclasses.dataclass(frozen=True)
class Outcomes:
    """The adapter's exceptions for each kind of outcome."""

    unavailable: type[Exception]
    unknown: type[Exception]
    rejected: Callable[[str, str], Exception]  # (code, message)
    rate_limited: type[Exception] | None = None  # a 429; `unavailable` without one


def call_json(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    what: str,
    outcomes: Outcomes,
    headers: dict[str, str],
    body: dict | None = None,
    params: dict | None = None,
) -> Any:
    """The answer's JSON for a 2xx; raises the adapter's exception for anything else."""
    try:
        response = http.request(method, url, headers=headers, json=body, params=params)
    except (httpx.ConnectError, httpx.ConnectTimeout) as e:
        raise outcomes.unavailable(f"{what}: {type(e).__name__}: {e}") from e
    except httpx.TransportError as e:
        raise outcomes.unknown(f"{what}: {type(e).__name__}: {e}") from e
    status = response.status_code
    if status == 429:
        raise (outcomes.rate_limited or outcomes.unavailable)(f"{what}: HTTP 429")
    if status == 503:
        raise outcomes.unavailable(f"{what}: HTTP 503")
    if status >= 500 or status < 200 or 300 <= status < 400:
        raise outcomes.unknown(f"{what}: HTTP {status}")
    try:
        data = response.json()
    except ValueError as e:
        if status >= 400:
            raise outcomes.rejected(f"http_{status}", f"{what}: {response.reason_phrase}") from e
        raise outcomes.unknown(f"{what}: unreadable answer: {e}") from e
    if status >= 400:
        details = data.get("error") if isinstance(data, dict) else None
        details = details if isinstance(details, dict) else {}
        raise outcomes.rejected(str(details.get("code") or f"http_{status}"), f"{what}: {details.get('message') or ''}")
    return data


def path_segment(value: str) -> str:
    """`value` as one path segment, percent-encoded; ValueError for one that would change the path."""
    if value in ("", ".", ".."):
        raise ValueError(f"not a valid path segment: {value!r}")
    return urllib.parse.quote(value, safe="")
