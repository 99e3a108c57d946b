"""The janitor: payments without a final answer (no webhook came) and refunds in progress are read
again from the provider, so nothing stays open because a notification was lost."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings

from billy.core.errors import BillyError

from . import queries
from .payments import recheck_payment
from .refunds import submit_refund

logger = logging.getLogger(__name__)


def recheck_open_payments(*, now: dt.datetime, until: float | None = None) -> int:
    """Re-read open payments untouched for BILLY_PAYMENT_RECHECK_SECONDS and refunds in progress
    untouched for BILLY_REFUND_POLL_SECONDS; returns how many were looked at. One that cannot be
    read stays open for the next run and never stops the others. Past `until` (time.monotonic()),
    it takes no more: the oldest-touched come first, so the next run goes on where this one stopped."""
    looked_at = 0
    payments_before = now - dt.timedelta(seconds=settings.BILLY_PAYMENT_RECHECK_SECONDS)
    for payment_id in queries.open_payments(untouched_since=payments_before):
        if until is not None and time.monotonic() >= until:
            return looked_at
        looked_at += 1
        try:
            recheck_payment(payment_id=payment_id, now=now)
        except BillyError as e:
            logger.warning("payment %s stays open: %s", payment_id, e.message)
        except Exception:  # one broken payment must not stop the janitor for every other one
            logger.exception("payment %s could not be re-checked", payment_id)
    refunds_before = now - dt.timedelta(seconds=settings.BILLY_REFUND_POLL_SECONDS)
    for refund_id in queries.open_refunds(untouched_since=refunds_before):
        if until is not None and time.monotonic() >= until:
            return looked_at
        looked_at += 1
        try:
            submit_refund(refund_id=refund_id, now=now)
        except BillyError as e:
            logger.warning("refund %s stays in progress: %s", refund_id, e.message)
        except Exception:
            logger.exception("refund %s could not be polled", refund_id)
    return looked_at
