"""Signing a webhook: `Billy-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

One `v1=` per secret that is valid at the time of sending (two during a rotation's overlap), so a
receiver that knows either secret can verify. The timestamp is signed too: a receiver refuses a
signature older than its tolerance, and a replayed old request with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and 32 random bytes (base64url)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(*, secrets: list[str], timestamp: int, body: bytes) -> str:
    """The `Billy-Signature` value for `body` sent at `timestamp` (unix seconds)."""
    return ",".join([f"t={timestamp}", *(f"v1={signature(secret=s, timestamp=timestamp, body=body)}" for s in secrets)])
