"""Appending events (always inside the transaction that moves the money)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .models import Event


def append_event(*, workspace_id: int, type: str, data: dict[str, Any], now: dt.datetime) -> None:  # noqa: A002
    Event.objects.create(workspace_id=workspace_id, type=type, data=data, created_at=now)


def append_events(*, workspace_id: int, events: list[tuple[str, dict[str, Any]]], now: dt.datetime) -> None:
    Event.objects.bulk_create(
        [Event(workspace_id=workspace_id, type=type_, data=data, created_at=now) for type_, data in events]
    )
