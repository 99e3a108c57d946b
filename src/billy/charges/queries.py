"""Reads of charges."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Window

from billy.clients.models import Client
from billy.core.errors import ValidationFailed
from billy.core.pagination import check_limit, decode_id_cursor, encode_id_cursor
from billy.core.validation import check_text, is_printable_text
from billy.workspaces.models import Workspace

from .models import Charge
from .operations import ChargeNotFound


def get_charge(*, workspace: Workspace, charge_id: str) -> Charge:
    """The charge with its client and refunds; raises ChargeNotFound."""
    charge = None
    if charge_id and len(charge_id) <= 128 and is_printable_text(charge_id):
        charge = (
            Charge.objects.select_related("client")
            .prefetch_related("refunds")
            .filter(workspace=workspace, charge_id=charge_id)
            .first()
        )
    if charge is None:
        raise ChargeNotFound(f"No charge {charge_id!r} in workspace {workspace.name!r}.")
    return charge


def list_charges(
    *,
    client: Client,
    limit: int,
    cursor: str | None = None,
    product: str | None = None,
    status: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
) -> tuple[list[Charge], str | None]:
    """The client's charges, newest first, filtered; created in [created_from, created_to).

    Raises ValidationFailed (a limit out of range, an unknown status, a product no charge can have)."""
    check_limit(limit)
    _check_filters(product=product, status=status)
    charges = Charge.objects.filter(client=client).select_related("client").order_by("-id")
    if product:
        charges = charges.filter(product=product)
    if status:
        charges = charges.filter(status=status)
    if created_from:
        charges = charges.filter(created_at__gte=created_from)
    if created_to:
        charges = charges.filter(created_at__lt=created_to)
    after = decode_id_cursor(cursor)
    if after is not None:
        charges = charges.filter(id__lt=after)
    page = list(charges[: limit + 1])
    return page[:limit], (encode_id_cursor(page[limit - 1].id) if len(page) > limit else None)


def _check_filters(*, product: str | None, status: str | None) -> None:
    errors: dict[str, list[str]] = {}
    if status and status not in Charge.Status.values:
        errors["status"] = [f"One of {', '.join(Charge.Status.values)}."]
    if product:
        check_text(errors, "product", product, max_length=128)
    if errors:
        raise ValidationFailed(errors)


def get_charges(*, workspace: Workspace, charge_ids: list[str]) -> list[Charge]:
    """Charges by id, with clients and refunds, in two queries."""
    return list(
        Charge.objects.select_related("client")
        .prefetch_related("refunds")
        .filter(workspace=workspace, charge_id__in=charge_ids)
    )


def holds_expiring(*, now: dt.datetime, within: dt.timedelta, limit: int) -> tuple[list[Charge], int]:
    """Holds that expire in [now, now + within), soonest first (at most `limit`, with their clients
    and workspaces), and how many there are in all: one query, on the held-charge expiry index."""
    holds = (
        Charge.objects.filter(status=Charge.Status.HELD, hold_expires_at__gte=now, hold_expires_at__lt=now + within)
        .select_related("client", "workspace")
        .annotate(holds_in_all=Window(Count("id")))
        .order_by("hold_expires_at", "id")
    )
    shown = list(holds[:limit])
    return shown, (shown[0].holds_in_all if shown else 0)
