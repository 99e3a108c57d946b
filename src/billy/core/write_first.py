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

`adopt_or_flag` does all of it for a row with a `status` (NEEDS_ATTENTION among its choices), an
`attention_reason` and its call's start mark.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any, TypeVar

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


def update_row(row: Any, **changes: Any) -> None:
    """Write `changes` to the row's table at once (one UPDATE by primary key) and to the instance."""
    type(row).objects.filter(pk=row.pk).update(**changes)
    for name, value in changes.items():
        setattr(row, name, value)


def adopt_or_flag(
    row: Any, *, candidates: Sequence[T], started_field: str, what: str, call: str, now: dt.datetime
) -> T | None:
    """`resolve_unknown_outcome` for the row whose call started at `row.<started_field>`: the one
    candidate to adopt; None when the call did not happen (the mark is cleared, so the next attempt
    calls again); several: the row is NEEDS_ATTENTION with the reason, and NeedsAttention is raised."""
    started_at = getattr(row, started_field)
    try:
        adopted = resolve_unknown_outcome(candidates=candidates, started_at=started_at, now=now)
    except Ambiguous:
        reason = ambiguous_reason(what=what, call=call, started_at=started_at, candidates=candidates)
        update_row(row, status=type(row).Status.NEEDS_ATTENTION, attention_reason=reason, updated_at=now)
        raise NeedsAttention(reason) from None
    if adopted is None:
        update_row(row, **{started_field: None}, updated_at=now)
    return adopted
