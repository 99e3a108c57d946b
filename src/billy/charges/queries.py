"""Reads of charges."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Window

from billy.clients.models import Client
from billy.core.errors import ValidationFailed
from billy.core.pagination import before_created, check_limit, decode_created_cursor, encode_created_cursor
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


CURSOR_TAG = "charge"


def list_charges(
    *,
    workspace: Workspace,
    limit: int,
    cursor: str | None = None,
    client: Client | None = None,
    service_client_id: str | None = None,
    product: str | None = None,
    status: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
) -> tuple[list[Charge], str | None]:
    """The workspace's charges (or one client's: `client`, or `service_client_id`, which finds none
    for a client billy does not know), newest first by (created_at, id), filtered; created in
    [created_from, created_to). Each filter has an index that also gives the order (see the model).

    Raises ValidationFailed (a limit out of range, an unknown status, a product or client id no
    charge can have, a cursor of another list)."""
    check_limit(limit)
    _check_filters(product=product, status=status, service_client_id=service_client_id)
    after = decode_created_cursor(cursor, CURSOR_TAG)
    charges = Charge.objects.filter(workspace=workspace)
    if service_client_id is not None:
        client = Client.objects.filter(workspace=workspace, service_client_id=service_client_id).first()
        if client is None:
            return [], None
    if client is not None:
        charges = charges.filter(client=client)
    if product:
        charges = charges.filter(product=product)
    if status:
        charges = charges.filter(status=status)
    if created_from:
        charges = charges.filter(created_at__gte=created_from)
    if created_to:
        charges = charges.filter(created_at__lt=created_to)
    if after is not None:
        charges = charges.filter(before_created(after))
    charges = charges.select_related("client").prefetch_related("refunds").order_by("-created_at", "-id")
    page = list(charges[: limit + 1])
    last = page[limit - 1] if len(page) > limit else None
    return page[:limit], (encode_created_cursor(CURSOR_TAG, last.created_at, last.id) if last else None)


def _check_filters(*, product: str | None, status: str | None, service_client_id: str | None) -> None:
    errors: dict[str, list[str]] = {}
    if status and status not in Charge.Status.values:
        errors["status"] = [f"One of {', '.join(Charge.Status.values)} (upper case)."]
    if product:
        check_text(errors, "product", product, max_length=128)
    if service_client_id is not None:
        check_text(errors, "client", service_client_id, max_length=128)
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
