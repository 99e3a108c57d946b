"""The card payment system emulator's family cards: a migrated family's card with each member's
limit and frame, handed over by billy (`PUT /v1/families/{family_id}`), after which the system keeps
usage itself.

A member's usage in a frame (a calendar month, UTC) is read from the payments on the family card
made for that member: HELD amounts count whole, CLEARED ones for what was cleared less refunds. A
hold that would take a member past the limit is refused (422 `limit_exceeded`). Every member (the
owner too) finds the family card in their list of payment methods with `payer_info.family_info`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from billy.core import clock
from billy.core.money import format_amount, parse_amount
from billy.integrations.emulation import Reply, Request, error, timestamp

FRAMES = ("month",)


def _frame_start(now: dt.datetime) -> str:
    start = now.astimezone(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parsed_members(body: Any) -> list[dict[str, Any]] | None:
    members = body.get("members") if isinstance(body, dict) else None
    if not isinstance(members, list) or not members:
        return None
    parsed = []
    for m in members:
        if not isinstance(m, dict) or not isinstance(m.get("uid"), str) or not m["uid"]:
            return None
        limit = m.get("limit")
        if limit is not None:
            try:
                if not isinstance(limit, str) or parse_amount(limit) < 0:
                    return None
            except ValueError:
                return None
        if m.get("frame", "month") not in FRAMES:
            return None
        parsed.append({"uid": m["uid"], "limit": limit, "frame": m.get("frame", "month")})
    return parsed


class FamilyCards:
    """The family cards of a card system emulator; its methods run under the emulator's lock."""

    def __init__(self, app: Any) -> None:
        self.app = app  # CardsApp: its cards and payments
        self.families: dict[str, dict[str, Any]] = {}

    def put(self, family_id: str, request: Request) -> Reply:
        try:
            body = request.json()
        except ValueError:
            body = None
        members = _parsed_members(body)
        card_id = body.get("card_id") if isinstance(body, dict) else None
        owner = body.get("owner_uid") if isinstance(body, dict) else None
        if members is None or not isinstance(owner, str) or not owner:
            return error(
                400, "bad_request", 'a family card is {"card_id", "owner_uid", "members": [{"uid", "limit", "frame"}]}'
            )
        card = self.app.cards.get(card_id) if isinstance(card_id, str) else None
        if card is None or card["payer_uid"] != owner:
            return error(422, "card_not_found", f"no card {card_id!r} of {owner!r}")
        family = {"family_id": family_id, "card_id": card_id, "owner_uid": owner, "members": members}
        same = self.families.get(family_id) == family
        self.families[family_id] = family | {"updated_at": timestamp()}
        self.app.save()
        return Reply(200, self.families[family_id], outcome="replayed" if same else "applied")

    def usage(self, family: dict[str, Any], uid: str) -> int:
        since = _frame_start(clock.now())
        used = 0
        for p in self.app.payments.values():
            if p["card_id"] != family["card_id"] or p["uid"] != uid or p["created_at"] < since:
                continue
            if p["status"] == "HELD":
                used += parse_amount(p["amount"])
            elif p["status"] == "CLEARED":
                used += parse_amount(p["cleared_amount"]) - sum(parse_amount(r["amount"]) for r in p["refunds"])
        return used

    def info(self, family: dict[str, Any], uid: str) -> dict[str, Any] | None:
        member = next((m for m in family["members"] if m["uid"] == uid), None)
        if member is None:
            return None
        used = self.usage(family, uid)
        limit = member["limit"]
        remaining = None if limit is None else format_amount(max(0, parse_amount(limit) - used))
        return {
            "family_id": family["family_id"],
            "uid": uid,
            "usage": format_amount(used),
            "limit": limit,
            "remaining": remaining,
            "frame": member["frame"],
        }

    def member(self, family_id: str, uid: str) -> Reply:
        family = self.families.get(family_id)
        if family is None:
            return error(404, "family_not_found", f"no family card for {family_id!r}")
        info = self.info(family, uid)
        return Reply(200, info) if info else error(404, "member_not_found", f"{uid!r} is not in {family_id!r}")

    def listed(self, uid: str) -> list[dict[str, Any]]:
        """The family cards `uid` may pay with, as entries of the user's list of payment methods."""
        found = []
        for family in self.families.values():
            info = self.info(family, uid)
            card = self.app.cards.get(family["card_id"])
            if info is None or card is None:
                continue
            entry = {k: v for k, v in card.items() if k != "created_at"} | {"uid": uid}
            found.append(
                entry
                | {
                    "payer_info": {
                        "uid": family["owner_uid"],
                        "family_info": {k: info[k] for k in ("family_id", "usage", "limit", "frame")},
                    }
                }
            )
        return found

    def refuses(self, card_id: str, uid: str, amount: int) -> Reply | None:
        """A hold past the member's limit on a family card, refused; None when it fits."""
        for family in self.families.values():
            if family["card_id"] != card_id:
                continue
            info = self.info(family, uid)
            if info is not None and info["remaining"] is not None and amount > parse_amount(info["remaining"]):
                return error(422, "limit_exceeded", f"the hold is past {uid!r}'s family limit")
        return None
