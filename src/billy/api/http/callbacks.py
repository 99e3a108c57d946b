"""What other systems call on billy, outside the product API (tag `callbacks`, a document of its
own): the card payment provider's notifications, and Balance's payment notifications (XML-RPC)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpResponse
from ninja import Field, Router, Schema, Status

from billy.core import clock
from billy.core.errors import Forbidden
from billy.integrations.balance.notification import success_body
from billy.moneyin import notifications as balance_notifications
from billy.subscriptions.provider_notifications import receive_notification

from .openapi import CALLBACKS_TAG, raises
from .rate_limits import check_rate

router = Router(tags=[CALLBACKS_TAG])


class WebhookOut(Schema):
    status: str = Field(
        description="received (stored, a job re-reads the object), duplicate (stored before) or ignored "
        "(about no payment or refund billy made: counted only)."
    )


def _allowed_source(remote_addr: str, networks: list[str]) -> bool:
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


@router.post(
    "/workspaces/{workspace}/providers/yookassa/webhook",
    auth=None,
    response={200: WebhookOut},
    summary="Notifications from the card payment provider",
)
@raises("forbidden", "not_found", "rate_limited", "payload_too_large")
def receive_yookassa_notification(request, workspace: str):
    """A notification about a payment or refund billy made is stored, deduplicated by (event, object
    id) and acknowledged with 200 `received` or `duplicate`; a job then re-reads the object from the
    provider and trusts only that. One about any other object is 200 `ignored`: counted, nothing
    else; past `BILLY_WEBHOOK_IGNORED_RATE` per source address, 429 `rate_limited` with Retry-After.
    404 for a workspace without a provider shop (or none at all)."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    if not _allowed_source(remote_addr, settings.YOOKASSA_WEBHOOK_ALLOWED_NETWORKS):
        raise Forbidden(f"Notifications are not taken from {remote_addr}.")
    status = receive_notification(
        workspace_name=workspace,
        body=request.body,
        remote_addr=remote_addr,
        now=clock.now(),
        admit_ignored=lambda: check_rate(
            request, group="yookassa_webhook_ignored", rate=settings.BILLY_WEBHOOK_IGNORED_RATE
        ),
    )
    return Status(200, WebhookOut(status=status))


_XML_RPC_ANSWER = {
    "description": 'XML-RPC `[0, "SUCCESS"]`: the notification is stored (or was before); Balance stops '
    "retrying it. Any other answer makes Balance call again later.",
    "content": {"text/xml": {"schema": {"type": "string"}}},
}


@router.post(
    "/workspaces/{workspace}/balance/notifications/{secret}",
    auth=None,
    response={200: None},
    summary="Balance's payment notifications (XML-RPC BalanceClient.NotifyOrder)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "An XML-RPC call of `BalanceClient.NotifyOrder` with one struct: ServiceID, OrderID, "
            "Seq, Currency, PaidTotal, CreditTotal, ConsumedTotal, At.",
            "content": {"text/xml": {"schema": {"type": "string"}}},
        },
        "responses": {"200": _XML_RPC_ANSWER},
    },
)
@raises("forbidden", "not_found", "rate_limited")
def receive_balance_notification(request, workspace: str, secret: str):
    """Give Balance this URL with the workspace's secret (`billy balance-notify-url <workspace>` prints
    it). Each call is stored raw, deduplicated by (order, seq), and answered at once; a job re-reads
    the order from Balance and books what is new, so the notification's own totals are never
    trusted. A wrong secret is 404 (stored as FORGED for operators); a call about no wallet order of
    the workspace is stored as IGNORED and answered as taken; past `BILLY_WEBHOOK_IGNORED_RATE` of
    those per source address, 429. With `BALANCE_NOTIFY_ALLOWED_NETWORKS`, other sources are 403."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    if not _allowed_source(remote_addr, settings.BALANCE_NOTIFY_ALLOWED_NETWORKS):
        raise Forbidden(f"Notifications are not taken from {remote_addr}.")
    balance_notifications.receive_balance_notification(
        workspace_name=workspace,
        secret=secret,
        body=request.body,
        remote_addr=remote_addr,
        now=clock.now(),
        admit_junk=lambda: check_rate(
            request, group="balance_notification_junk", rate=settings.BILLY_WEBHOOK_IGNORED_RATE
        ),
    )
    return HttpResponse(success_body(), content_type="text/xml")
