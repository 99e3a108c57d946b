"""Background jobs of money in: a stored notification's processing, and the janitor that polls
wallet orders whose notification may be lost and finishes what callers left half way."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from procrastinate.contrib.django import app

from billy.core import clock
from billy.core.errors import BillyError
from billy.core.tasks import CappedBackoff, db_task, janitor
from billy.integrations.balance import get_balance
from billy.integrations.balance.port import BalanceError
from billy.payers import contracts as contract_operations
from billy.payers.queries import unbound_contracts

from . import credit, invoices, notifications, queries, refresh

logger = logging.getLogger(__name__)


@app.task(name="billy.moneyin.process_notification", queue="balance", retry=CappedBackoff(cap=60))
@db_task
def process_notification_task(notification_pk: int) -> bool:
    return notifications.process_notification(notification_pk=notification_pk, balance=get_balance(), now=clock.now())


@janitor(name="billy.moneyin.poll_wallet_orders", cron="* * * * *", periodic_id="poll_wallet_orders", queue="balance")
def poll_wallet_orders_task(timestamp: int, *, until: float) -> int:
    """Janitor: bind contracts whose account opened, finish invoices and credit transfers their
    callers left, and re-read the wallet orders whose notification may be lost (open invoices,
    postpay contracts, recent money); returns how many orders booked money."""
    now, balance = clock.now(), get_balance()
    stalled_since = now - dt.timedelta(seconds=settings.BILLY_STALLED_REGISTRATION_SECONDS)
    work = [
        *((contract_operations.bind_personal_account, {"contract_pk": pk}) for pk in unbound_contracts()),
        *(
            (invoices.resume_invoice, {"invoice_pk": pk})
            for pk in queries.stalled_invoices(untouched_since=stalled_since)
        ),
        *(
            (credit.resume_credit_transfer, {"transfer_pk": pk})
            for pk in queries.stalled_credit_transfers(untouched_since=stalled_since)
        ),
    ]
    for operation, kwargs in work:
        if time.monotonic() >= until:
            return 0
        try:
            operation(balance=balance, now=now, **kwargs)
        except (BillyError, BalanceError) as e:
            logger.info("%s %s stays: %s", operation.__name__, kwargs, e)
    booked = 0
    for contract_pk in queries.orders_to_poll(now=now):
        if time.monotonic() >= until:
            break  # the next run goes on
        try:
            booked += bool(refresh.refresh_wallet_order(contract_pk=contract_pk, balance=balance, now=now).total)
        except BillyError as e:
            logger.warning("wallet order of contract %s not re-read: %s", contract_pk, e.message)
    return booked
