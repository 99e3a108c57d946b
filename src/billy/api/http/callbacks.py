"""What other systems call on billy, outside the product API (tag `callbacks`, a document of its
own): the card payment provider's notifications."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from ninja import Field, Router, Schema, Status

from billy.core import clock
from billy.core.errors import Forbidden
from billy.subscriptions.provider_notifications import receive_notification

from .openapi import CALLBACKS_TAG, raises
from .rate_limits import check_rate

router = Router(tags=[CALLBACKS_TAG])


class WebhookOut(Schema):
    status: str = Field(
        description="received (stored, a job re-reads the object), duplicate (stored before) or ignored "
        "(about no payment or refund billy made: counted only)."
    )


def _allowed_source(remote_addr: str) -> bool:
    networks = settings.YOOKASSA_WEBHOOK_ALLOWED_NETWORKS
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
    if not _allowed_source(remote_addr):
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
