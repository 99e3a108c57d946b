"""Appending events (always inside the transaction that moves the money).

Money movements append their events through the ledger (`billy.ledger.postings`), in the same
statement or transaction as the movement; this is the one ORM path for an event on its own.
"""

from __future__ import annotations

import datetime as dt

from .models import Event
from .registry import NewEvent

# The columns a statement that appends an event fills, in this order (see `billy.ledger.postings`).
EVENT_INSERT = "INSERT INTO event (workspace_id, type, version, data, created_at)"


def append_event(*, workspace_id: int, event: NewEvent, now: dt.datetime) -> None:
    Event.objects.create(
        workspace_id=workspace_id, type=event.type, version=event.version, data=event.data, created_at=now
    )
