"""The one home of the spending-limit rule: a spender's usage in a frame (held + spent) never goes
past the limit's amount.

The rule is written once in SQL (`_FITS_SQL`, the guard of the UPDATE that reserves) and once in
Python (`fits`, for answers such as check_available), side by side. Every change of usage goes
through this module, under the limit row's lock (`SELECT ... FOR UPDATE`), which also serialises a
change of the limit itself: two spendings, or a spending and a new limit, are decided one after
the other on committed figures, so together they can never overshoot.

Frames are calendar months in the workspace's time zone, half-open `[start, end)`. A spending
counts in the frame it was made in, until it is released or refunded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo

from django.db import connection, transaction
from django.db.models import F

from billy.core.errors import BillyError
from billy.core.money import format_amount

from .models import LimitUsage, SpendingLimit


class LimitExceeded(BillyError):
    code = "limit_exceeded"
    default_message = "The amount is more than what is left of the member's limit."


# -- frames --------------------------------------------------------------------------------------


def frame_of(now: dt.datetime, *, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The calendar month holding `now` in the time zone, as UTC `[start, end)`."""
    zone = zoneinfo.ZoneInfo(time_zone)
    local = now.astimezone(zone)
    start = dt.datetime(local.year, local.month, 1, tzinfo=zone)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    end = dt.datetime(year, month, 1, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


# -- the rule ------------------------------------------------------------------------------------

_FITS_SQL = "(%(cap)s::bigint IS NULL OR held + spent + %(amount)s <= %(cap)s::bigint)"


def fits(*, cap: int | None, used: int, amount: int) -> bool:
    """Whether `amount` more fits under the cap: `_FITS_SQL` in Python."""
    return cap is None or used + amount <= cap


@dataclasses.dataclass(frozen=True)
class Usage:
    cap: int | None  # None: unlimited
    held: int
    spent: int

    @property
    def used(self) -> int:
        return self.held + self.spent

    @property
    def remaining(self) -> int | None:
        return None if self.cap is None else max(0, self.cap - self.used)

    def fits(self, amount: int) -> bool:
        return fits(cap=self.cap, used=self.used, amount=amount)


# -- limits --------------------------------------------------------------------------------------


def open_limit(*, workspace_id: int, currency: str, amount: int | None, now: dt.datetime) -> SpendingLimit:
    """A new limit (`amount` None: unlimited)."""
    return SpendingLimit.objects.create(
        workspace_id=workspace_id, currency=currency, amount=amount, created_at=now, updated_at=now
    )


def _lock(limit_id: int) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT amount FROM ledger_spending_limit WHERE id = %s FOR UPDATE", [limit_id])
        return cursor.fetchone()[0]


def set_limit(*, limit_id: int, amount: int | None, now: dt.datetime) -> None:
    """Change the cap; what was used in each frame stays (a lower cap than the usage only stops new spending)."""
    with transaction.atomic():
        _lock(limit_id)
        SpendingLimit.objects.filter(pk=limit_id).update(amount=amount, updated_at=now)


def usage(*, limit_id: int, frame_start: dt.datetime) -> Usage:
    """The limit and what was used in the frame starting at `frame_start`."""
    limit = SpendingLimit.objects.get(pk=limit_id)
    row = LimitUsage.objects.filter(limit_id=limit_id, frame_start=frame_start).values_list("held", "spent").first()
    held, spent = row or (0, 0)
    return Usage(cap=limit.amount, held=held, spent=spent)


def usages(*, limit_ids: list[int], frame_start: dt.datetime) -> dict[int, Usage]:
    """`usage` of many limits in one frame, in two queries."""
    caps = dict(SpendingLimit.objects.filter(pk__in=limit_ids).values_list("id", "amount"))
    rows = {
        limit_id: (held, spent)
        for limit_id, held, spent in LimitUsage.objects.filter(
            limit_id__in=limit_ids, frame_start=frame_start
        ).values_list("limit_id", "held", "spent")
    }
    return {i: Usage(caps[i], *rows.get(i, (0, 0))) for i in limit_ids if i in caps}


# -- moving usage (each inside the caller's transaction) -----------------------------------------

_RESERVE_SQL = f"""
UPDATE ledger_limit_usage SET held = held + %(amount)s
 WHERE limit_id = %(limit)s AND frame_start = %(frame)s AND {_FITS_SQL}
RETURNING held, spent
"""  # noqa: S608 (constant fragments only)


def reserve(*, limit_id: int, frame_start: dt.datetime, amount: int) -> None:
    """Count `amount` as held in the frame if it fits under the cap; LimitExceeded (with the limit,
    the usage and what remains in its details) and nothing written otherwise."""
    if amount <= 0:
        raise ValueError(f"a reservation is positive: {amount}")
    with transaction.atomic():
        cap = _lock(limit_id)
        LimitUsage.objects.bulk_create([LimitUsage(limit_id=limit_id, frame_start=frame_start)], ignore_conflicts=True)
        with connection.cursor() as cursor:
            cursor.execute(_RESERVE_SQL, {"amount": amount, "limit": limit_id, "frame": frame_start, "cap": cap})
            if cursor.fetchone() is not None:
                return
        now = usage(limit_id=limit_id, frame_start=frame_start)
        raise LimitExceeded(
            details={
                "limit": format_amount(cap),
                "usage": format_amount(now.used),
                "remaining": format_amount(now.remaining or 0),
                "amount": format_amount(amount),
            }
        )


def _move(*, limit_id: int, frame_start: dt.datetime, held: int = 0, spent: int = 0) -> None:
    with transaction.atomic():
        _lock(limit_id)
        updated = LimitUsage.objects.filter(limit_id=limit_id, frame_start=frame_start).update(
            held=F("held") + held, spent=F("spent") + spent
        )
        if updated != 1:
            raise ValueError(f"limit #{limit_id} has no usage from {frame_start}")


def release(*, limit_id: int, frame_start: dt.datetime, amount: int) -> None:
    """A hold that did not happen, or was released: it no longer counts."""
    _move(limit_id=limit_id, frame_start=frame_start, held=-amount)


def settle(*, limit_id: int, frame_start: dt.datetime, held: int, cleared: int) -> None:
    """A hold of `held` was cleared for `cleared` (at most `held`): the rest no longer counts."""
    if cleared > held:
        raise ValueError(f"cleared {cleared} is more than the hold {held}")
    _move(limit_id=limit_id, frame_start=frame_start, held=-held, spent=cleared)


def restore(*, limit_id: int, frame_start: dt.datetime, amount: int) -> None:
    """A refund of `amount`: it gives the headroom back in the spending's frame."""
    _move(limit_id=limit_id, frame_start=frame_start, spent=-amount)
