"""Balance's payment notifications (`BalanceClient.NotifyOrder`): authenticated, stored raw,
deduplicated by (order, seq), acknowledged; a job then re-reads the order and books
(`refresh.refresh_wallet_order`). The body is only a hint: its totals are kept for operators and
never booked, so a forged or stale notification changes no wallet.

Authentication: the workspace's secret in the URL (Balance's call carries no header billy
controls), compared in constant time, and the optional network allowlist the view checks. A call
with a wrong secret is stored as FORGED for operators and refused; one about no wallet order of
the workspace is stored as IGNORED and answered as taken (Balance has nothing to retry). Both pass
the caller's rate limit first, so a flood of junk costs little.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import F

from billy.core.errors import BillyError, ValidationFailed
from billy.core.tasks import defer
from billy.integrations.balance.notification import MalformedNotification, parse_notify_order
from billy.integrations.balance.port import Balance
from billy.payers.models import Contract
from billy.workspaces.queries import WorkspaceNotFound, get_workspace

from .models import BalanceNotification
from .refresh import refresh_wallet_order

logger = logging.getLogger(__name__)

RECEIVED, DUPLICATE, IGNORED = "RECEIVED", "DUPLICATE", "IGNORED"
MAX_STORED_BODY = 20_000


class NotificationsNotTaken(BillyError):
    """No such workspace, or a wrong secret: the same answer for both."""

    code = "not_found"
    default_message = "No Balance notifications are taken here."


def _admit_all() -> None:
    return None


def receive_balance_notification(
    *,
    workspace_name: str,
    secret: str,
    body: bytes,
    remote_addr: str,
    now: dt.datetime,
    admit_junk: Callable[[], None] = _admit_all,
) -> str:
    """Take a NotifyOrder; RECEIVED (stored with its job), DUPLICATE (stored before) or IGNORED
    (about no wallet order of the workspace: stored, nothing else).

    `admit_junk` is called before a forged or ignored one is stored and may raise (the view's rate
    limit). Raises NotificationsNotTaken (unknown workspace, wrong secret) and ValidationFailed (a
    body that is not a NotifyOrder)."""
    try:
        workspace = get_workspace(workspace_name)
    except WorkspaceNotFound as e:
        raise NotificationsNotTaken() from e
    text = body[:MAX_STORED_BODY].decode("utf-8", errors="replace").replace("\x00", "")
    if not hmac.compare_digest(secret.encode(), workspace.balance_notification_secret.encode()):
        admit_junk()
        logger.warning("a Balance notification for %s with a wrong secret from %s", workspace.name, remote_addr)
        BalanceNotification.objects.create(
            workspace=workspace,
            body=text,
            remote_addr=remote_addr[:64],
            status=BalanceNotification.Status.FORGED,
            received_at=now,
        )
        raise NotificationsNotTaken()
    try:
        notification = parse_notify_order(body)
    except MalformedNotification as e:
        raise ValidationFailed({e.field or "body": [str(e)]}) from e
    contract = Contract.objects.filter(
        workspace=workspace, wallet_order_id=notification.order_id, status=Contract.Status.ACTIVE
    ).first()
    ours = contract is not None and notification.service_id == workspace.balance_service_id
    if not ours:
        admit_junk()
    row = BalanceNotification(
        workspace=workspace,
        contract=contract if ours else None,
        service_id=notification.service_id,
        order_id=notification.order_id,
        seq=notification.seq,
        paid_total=notification.paid_total,
        credit_total=notification.credit_total,
        body=text,
        remote_addr=remote_addr[:64],
        status=BalanceNotification.Status.RECEIVED if ours else BalanceNotification.Status.IGNORED,
        received_at=now,
    )
    try:
        with transaction.atomic():
            row.save()
            if ours:
                defer("billy.moneyin.process_notification", notification_pk=row.pk)
    except IntegrityError:
        BalanceNotification.objects.filter(
            workspace=workspace, order_id=notification.order_id, seq=notification.seq
        ).update(deliveries=F("deliveries") + 1)
        return DUPLICATE
    return RECEIVED if ours else IGNORED


def process_notification(*, notification_pk: int, balance: Balance, now: dt.datetime) -> bool:
    """Re-read the notification's wallet order and book what is new; True when it was processed now.
    Raises UpstreamUnavailable or UpstreamError (the job retries)."""
    notification = BalanceNotification.objects.get(pk=notification_pk)
    if notification.status != BalanceNotification.Status.RECEIVED:
        return False
    booked = refresh_wallet_order(contract_pk=notification.contract_id, balance=balance, now=now)
    BalanceNotification.objects.filter(pk=notification_pk, status=BalanceNotification.Status.RECEIVED).update(
        status=BalanceNotification.Status.PROCESSED,
        booked_paid=booked.paid,
        booked_credit=booked.credit,
        processed_at=now,
    )
    return True
