"""Properties of renewal's time rules, for any schedule, grace, lead and decline time: retries come in
order, never past the grace period and never more than the schedule has; a renewal is planned before
its period ends, and a renewed month is a month in any time zone."""

from __future__ import annotations

import datetime as dt
import itertools

from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from billy.subscriptions.models import Subscription
from billy.subscriptions.periods import next_retry_time, renewal_time
from billy.subscriptions.plans import add_period

moments = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2030, 12, 31), timezones=st.just(dt.UTC)
)
schedules = st.lists(st.integers(min_value=1, max_value=30 * 86400), min_size=1, max_size=6).map(
    lambda offsets: tuple(sorted(set(offsets)))
)


def _subscription(*, period_end: dt.datetime, past_due_since: dt.datetime, failures: int) -> Subscription:
    return Subscription(
        period_start=period_end - dt.timedelta(days=30),
        period_end=period_end,
        renews=True,
        payment_method_id="pm-1",
        past_due_since=past_due_since,
        renewal_failures=failures,
    )


@given(
    schedule=schedules,
    grace=st.integers(min_value=0, max_value=60 * 86400),
    period_end=moments,
    declined_before_end=st.integers(min_value=0, max_value=10 * 86400),
)
def test_retries_come_in_order_within_the_grace_period_and_the_schedule(
    schedule, grace, period_end, declined_before_end
):
    first_decline = period_end - dt.timedelta(seconds=declined_before_end)

    with override_settings(BILLY_RENEWAL_RETRY_SECONDS=schedule, BILLY_RENEWAL_GRACE_SECONDS=grace):
        retries = [
            next_retry_time(_subscription(period_end=period_end, past_due_since=first_decline, failures=n))
            for n in range(1, len(schedule) + 2)
        ]

    planned = [r for r in retries if r is not None]
    assert retries[-1] is None  # never more tries than the schedule has
    assert planned == sorted(planned) and len(set(planned)) == len(planned)
    assert all(first_decline < r < period_end + dt.timedelta(seconds=grace) for r in planned)
    assert retries[: len(planned)] == planned  # once dunning is over, it stays over


@given(
    lead=st.integers(min_value=0, max_value=400 * 86400),
    first_start=moments,
    renewals=st.integers(min_value=1, max_value=24),
    time_zone=st.sampled_from(["Europe/Moscow", "UTC", "America/New_York", "Asia/Kamchatka"]),
)
def test_a_renewal_comes_before_each_end_and_a_renewed_month_is_a_month(lead, first_start, renewals, time_zone):
    starts = [first_start]
    for _ in range(renewals):
        starts.append(add_period(starts[-1], "MONTH", time_zone=time_zone))

    for start, end in itertools.pairwise(starts):
        subscription = Subscription(period_start=start, period_end=end, renews=True, payment_method_id="pm-1")
        with override_settings(BILLY_RENEWAL_LEAD_SECONDS=lead):
            planned = renewal_time(subscription)
        assert planned == end - dt.timedelta(seconds=lead) and planned <= end
        assert dt.timedelta(days=27) <= end - start <= dt.timedelta(days=32)
        assert start < end
