"""The workspace's shop at the card payment provider, and the bookkeeping of calls to it.

A call that creates something at the provider (a payment, a refund) is keyed by billy's row id, and
the provider keeps a key for 24 hours. So a row counts its attempts and remembers when the first one
may have reached the provider: past the key window a retry could create a second object, and the
row is looked up at the provider instead of created again.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from billy.core.errors import BillyError
from billy.integrations.yookassa import get_payment_provider
from billy.integrations.yookassa.port import PaymentProvider, ShopCredentials
from billy.workspaces.models import Workspace

from .models import SubscriptionPayment, SubscriptionRefund

# The provider payment's metadata key that carries billy's payment id (how a lost answer is found).
PAYMENT_METADATA_KEY = "billy_payment_id"


class PaymentProviderNotConfigured(BillyError):
    code = "payment_provider_not_configured"
    default_message = "The workspace has no card payment provider shop configured."


def provider_for(workspace: Workspace) -> PaymentProvider:
    """The workspace's own shop at the provider. Raises PaymentProviderNotConfigured."""
    if not (workspace.yookassa_api_url and workspace.yookassa_shop_id and workspace.yookassa_secret_key):
        raise PaymentProviderNotConfigured(f"Workspace {workspace.name!r} has no payment provider shop configured.")
    return get_payment_provider(
        ShopCredentials(
            api_url=workspace.yookassa_api_url,
            shop_id=workspace.yookassa_shop_id,
            secret_key=workspace.yookassa_secret_key,
        )
    )


def past_key_window(row: SubscriptionPayment | SubscriptionRefund, now: dt.datetime) -> bool:
    """Whether the provider may have forgotten the row's Idempotence-Key (it keeps keys 24 h)."""
    window = dt.timedelta(seconds=settings.BILLY_PAYMENT_KEY_WINDOW_SECONDS)
    return row.first_attempt_at is not None and now - row.first_attempt_at >= window


def count_attempt(model, pk, *, now: dt.datetime) -> None:
    """Counted before the call: the key window starts at the first call that may have reached it."""
    model.objects.filter(pk=pk).update(
        first_attempt_at=Coalesce(F("first_attempt_at"), Value(now)), attempts=F("attempts") + 1
    )


def note_attempt(model, pk, *, now: dt.datetime, error: str = "") -> None:
    fields = {"updated_at": now}
    if error:
        fields["last_error"] = error[:512]
    model.objects.filter(pk=pk).update(**fields)
