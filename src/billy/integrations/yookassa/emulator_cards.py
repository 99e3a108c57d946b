"""The YooKassa emulator's saved payment methods: cards a shop may charge again without the payer.

A payment created with `"save_payment_method": true` saves the card the payer pays with on the
hosted page (its `payment_method.saved` becomes true), unless the card is one that refuses saving.
A later payment with `"payment_method_id"` and no confirmation is charged at once: succeeded, or
canceled by the card network when the method declines.

Test cards, on top of the page's (see `emulator`):

    4000000000000077  → pays, but is never saved (`payment_method.saved` stays false)
    4000000000000101  → pays and is saved; declines every later charge: `insufficient_funds`
    4000000000000119  → pays and is saved; declines every later charge: `card_expired`

The control API changes what a saved method does next: `POST /_emulator/payment_methods/<id>`
`{"decline": "insufficient_funds" | "card_expired" | ... | null}` (null: it pays again), and
`POST /_emulator/payment_methods/<id>/expire` (declines as `card_expired` from now on).
"""

from __future__ import annotations

import copy
from typing import Any

UNSAVED_CARDS = frozenset({"4000000000000077"})
RENEWAL_DECLINED_CARDS = {"4000000000000101": "insufficient_funds", "4000000000000119": "card_expired"}


class SavedMethods:
    """Saved methods per shop: id → {"shop_id", "decline", "object"}. The caller holds the state's lock."""

    def __init__(self, saved: dict[str, dict[str, Any]] | None = None) -> None:
        self.methods: dict[str, dict[str, Any]] = saved or {}

    def save(self, shop_id: str, method: dict[str, Any], card_number: str) -> bool:
        """Save the method the payer paid with, when the card allows it; returns whether it did."""
        if card_number in UNSAVED_CARDS:
            return False
        method["saved"] = True
        self.methods[method["id"]] = {
            "shop_id": shop_id,
            "decline": RENEWAL_DECLINED_CARDS.get(card_number),
            "object": copy.deepcopy(method),
        }
        return True

    def find(self, shop_id: str, method_id: str) -> dict[str, Any] | None:
        record = self.methods.get(method_id)
        return record if record is not None and record["shop_id"] == shop_id else None

    def set_decline(self, method_id: str, reason: str | None) -> dict[str, Any] | None:
        record = self.methods.get(method_id)
        if record is not None:
            record["decline"] = reason
        return record

    def clear(self) -> None:
        self.methods.clear()

    def listing(self) -> list[dict[str, Any]]:
        return [{"shop_id": r["shop_id"], "decline": r["decline"], **r["object"]} for r in self.methods.values()]
