"""The registry of event types: each has a name, a version and a JSON Schema kept beside this module.

Every producer builds its payload through `EventType.build`, which refuses a payload whose fields are
not exactly the schema's (so producers cannot drift apart); the schema itself (types, formats) is
checked against every event the test suite writes. A change of a payload's meaning is a new version
with a new schema file; readers see both the type and the version of each event. Producers write
only the current version of a type; earlier versions stay registered (RETIRED_EVENT_TYPES) with
their schemas, because the feed still holds the events written with them.

Every event's `amount` is what that event moved (a refund's event carries the refund's amount, not
the charge's), and timestamps are written by `billy.core.timestamps`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).parent / "schemas"


@dataclass(frozen=True)
class NewEvent:
    """An event ready to append: its registered type, version and payload."""

    type: str
    version: int
    data: dict[str, Any]


@dataclass(frozen=True)
class EventType:
    name: str
    version: int

    @property
    def schema_path(self) -> Path:
        return SCHEMA_DIR / f"{self.name}.v{self.version}.json"

    @functools.cached_property
    def schema(self) -> dict[str, Any]:
        return json.loads(self.schema_path.read_text())

    @property
    def summary(self) -> str:
        return self.schema["description"]

    @functools.cached_property
    def fields(self) -> frozenset[str]:
        return frozenset(self.schema["properties"])

    @functools.cached_property
    def required(self) -> frozenset[str]:
        return frozenset(self.schema.get("required", ()))

    def build(self, **data: Any) -> NewEvent:
        """The payload as this type's schema names it. Raises ValueError on a missing or unknown field."""
        names = data.keys()
        if not (self.required <= names <= self.fields):
            raise ValueError(
                f"{self.name} v{self.version}: missing {sorted(self.required - names)}, "
                f"unknown {sorted(names - self.fields)}"
            )
        return NewEvent(self.name, self.version, data)


def _register(*types: EventType) -> dict[str, EventType]:
    return {t.name: t for t in types}


# v2 of the charge events carry the charge's metadata; charge.refunded v2's amount is the refund's.
CHARGE_COMPLETED = EventType("charge.completed", 2)
CHARGE_HELD = EventType("charge.held", 2)
CHARGE_CONFIRMED = EventType("charge.confirmed", 2)
CHARGE_CANCELLED = EventType("charge.cancelled", 2)
CHARGE_REFUNDED = EventType("charge.refunded", 2)
WALLET_ADJUSTED = EventType("wallet.adjusted", 1)
WALLET_TOPPED_UP = EventType("wallet.topped_up", 1)
SUBSCRIPTION_PAYMENT_SUCCEEDED = EventType("subscription.payment_succeeded", 1)
SUBSCRIPTION_REFUND_SUCCEEDED = EventType("subscription.refund_succeeded", 1)
FAMILY_SPENDING_CLEARED = EventType("family.spending_cleared", 1)
FAMILY_SPENDING_REFUNDED = EventType("family.spending_refunded", 1)

EVENT_TYPES: dict[str, EventType] = _register(
    CHARGE_COMPLETED,
    CHARGE_HELD,
    CHARGE_CONFIRMED,
    CHARGE_CANCELLED,
    CHARGE_REFUNDED,
    WALLET_ADJUSTED,
    WALLET_TOPPED_UP,
    SUBSCRIPTION_PAYMENT_SUCCEEDED,
    SUBSCRIPTION_REFUND_SUCCEEDED,
    FAMILY_SPENDING_CLEARED,
    FAMILY_SPENDING_REFUNDED,
)

# Versions no producer writes any more, still found in the feed.
RETIRED_EVENT_TYPES: tuple[EventType, ...] = (
    EventType("charge.completed", 1),
    EventType("charge.held", 1),
    EventType("charge.confirmed", 1),
    EventType("charge.cancelled", 1),
    EventType("charge.refunded", 1),  # its amount was the charge's; `refunded` was the refund's
)
