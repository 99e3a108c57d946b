"""Write first, then call out: the one rule for a create call to an upstream whose outcome is unknown.

Every create billy sends to Balance (a client, a payer, a contract, an invoice, a deposit from credit)
commits a local row with the call's start (`*_call_started_at`) before calling. While that mark is
set, the object may exist upstream. When the answer is lost (a timeout, a 5xx), the caller never
repeats the call blindly: it reads the upstream back, keeps the objects that match the row's
business fields and that no other row has claimed, and hands them to `resolve_unknown_outcome`:

- exactly one: it is ours, adopt it;
- none: the call did not happen, but only once no answer can still be on its way
  (`BALANCE_CALL_HORIZON_SECONDS` after the call started); before that, retry later;
- several: an operator decides (NEEDS_ATTENTION, with the reason `ambiguous_reason` writes).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TypeVar

from django.conf import settings

from .errors import BillyError, UpstreamUnavailable

T = TypeVar("T")


class NeedsAttention(BillyError):
    code = "needs_attention"
    default_message = "The call to Balance had an ambiguous outcome; an operator will resolve it."


class Ambiguous(Exception):
    """Several upstream objects match: the caller flags its row for an operator."""

    def __init__(self, candidates: Sequence[object]) -> None:
        super().__init__(f"{len(candidates)} candidates")
        self.candidates = list(candidates)


def resolve_unknown_outcome(*, candidates: Sequence[T], started_at: dt.datetime, now: dt.datetime) -> T | None:
    """The one candidate (adopt it), or None when the call surely did not happen.

    Raises UpstreamUnavailable (with Retry-After) while an answer may still be on its way, Ambiguous
    with several candidates."""
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise Ambiguous(candidates)
    over_at = started_at + dt.timedelta(seconds=settings.BALANCE_CALL_HORIZON_SECONDS)
    if now < over_at:
        raise UpstreamUnavailable(
            "Balance has not confirmed the call yet; retry later.",
            retry_after=max(1, math.ceil((over_at - now).total_seconds())),
        )
    return None


def ambiguous_reason(*, what: str, call: str, started_at: dt.datetime, candidates: Sequence[object]) -> str:
    """What an operator reads on a NEEDS_ATTENTION row."""
    return (
        f"A {call} sent at {started_at:%Y-%m-%d %H:%M:%S} UTC had an unknown outcome; Balance now holds "
        f"{len(candidates)} unclaimed {what} that match ({', '.join(map(str, candidates))}). Check Balance, "
        "then re-check or create it anyway."
    )
