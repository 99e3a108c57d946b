"""A card payment system emulator: users' bound cards and card payments, behind the API documented
in `billy.integrations.cards`.

State: cards (`card-x…`, each bound to a `uid` and paid by its `payer_uid`), payments (`pay-…`:
HELD → CLEARED or CANCELLED, with refunds) and idempotency keys. Each write's key is remembered with
its request and first answer: the same key and request get that answer again and change nothing
(outcome `replayed`); the same key with another request is a 422 `idempotency_conflict`.

Every payment keeps the `uid` who spent it, so what a family member used in a period is readable
from the payments alone: a family card that learns per-member limits (the next step, when families
move to the identity provider) counts HELD amounts plus cleared minus refunded per uid.

Control API (the shared part — faults, request log, reset, health — is in
`billy.integrations.emulation`):

- `POST /_emulator/users/{uid}/cards` `{"payer_uid"?, "number"?}` → 201 `{"id": "card-x…", ...}`:
  bind a new test card to `uid` (paid by `payer_uid`, by default `uid` itself)
- `GET /_emulator/cards[?uid=&payer_uid=]`, `GET /_emulator/payments[?uid=&card_id=&status=]`
- `POST /_emulator/cards/{id}/decline` `{"decline": true|false}`: holds on the card are declined
  (422 `declined`) until switched back

With `state_file`, cards, payments and keys survive a restart.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from billy.core.money import format_amount, parse_amount
from billy.integrations.emulation import (
    Emulator,
    EmulatorApp,
    EmulatorControl,
    Reply,
    Request,
    error,
    query_filter,
    timestamp,
)

from .emulator_families import FamilyCards

DEV_TOKEN = "dev-cards-token"  # the settings' default CARDS_TOKEN
_MAX_KEY = 255
_MAX_SEGMENT = 200


def _amount(body: dict[str, Any], field: str = "amount") -> int | None:
    value = body.get(field)
    if not isinstance(value, str):
        return None
    try:
        amount = parse_amount(value)
    except ValueError:
        return None
    return amount if amount > 0 else None


class CardsApp(EmulatorApp):
    name = "cards"

    def forget(self) -> None:
        self.cards: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, dict[str, Any]] = {}  # key → {"request": [...], "status", "answer"}
        self.declining: set[str] = set()
        self.family_cards = FamilyCards(self)

    def dump(self) -> dict[str, Any]:
        return {
            "cards": self.cards,
            "payments": self.payments,
            "keys": self.keys,
            "declining": sorted(self.declining),
            "families": self.family_cards.families,
        }

    def load(self, saved: dict[str, Any]) -> None:
        self.cards, self.payments, self.keys = saved["cards"], saved["payments"], saved["keys"]
        self.declining = set(saved.get("declining", ()))
        self.family_cards.families = saved.get("families", {})

    def describe(self, request: Request) -> dict[str, Any]:
        operation = None
        match request.method, request.segments:
            case "GET", ["v1", "users", _, "payment-methods"]:
                operation = "list_payment_methods"
            case "POST", ["v1", "payments"]:
                operation = "hold"
            case "GET", ["v1", "payments", *_]:
                operation = "get_payment"
            case "POST", ["v1", "payments", _, action]:
                operation = {"clear": "clear", "cancel": "cancel", "refunds": "refund"}.get(action)
            case "PUT", ["v1", "families", _]:
                operation = "put_family"
            case "GET", ["v1", "families", *_]:
                operation = "family_member"
        return {"operation": operation, "key": request.headers.get("Idempotency-Key")}

    # -- the API ---------------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:  # noqa: PLR0911 (one answer per route)
        match request.method, request.segments:
            case "GET", ["v1", "users", uid, "payment-methods"]:
                cards = [c for c in self.cards.values() if c["uid"] == uid]
                family = self.family_cards.listed(uid)
                shared = {c["id"] for c in family}
                return Reply(200, {"payment_methods": [c for c in cards if c["id"] not in shared] + family})
            case "PUT", ["v1", "families", family_id]:
                return self.family_cards.put(family_id, request)
            case "GET", ["v1", "families", family_id, "members", uid]:
                return self.family_cards.member(family_id, uid)
            case "GET", ["v1", "payments"]:
                key = request.query.get("key")
                if not key:
                    return error(400, "bad_request", "the query needs key=<idempotency key>")
                return Reply(200, {"payments": [p for p in self.payments.values() if p["key"] == key]})
            case "GET", ["v1", "payments", payment_id]:
                payment = self.payments.get(payment_id)
                if payment is None:
                    return error(404, "payment_not_found", f"no payment {payment_id!r}")
                return Reply(200, payment)
            case "POST", ["v1", "payments", *rest] if len(rest) in (0, 2):
                return self._write(request, rest)
        return error(404, "not_found", f"no {request.method} {request.path}")

    def _write(self, request: Request, rest: list[str]) -> Reply:  # noqa: PLR0911 (one answer per refusal)
        key = request.headers.get("Idempotency-Key") or ""
        if not 0 < len(key) <= _MAX_KEY:
            return error(400, "bad_request", f"an Idempotency-Key header of 1..{_MAX_KEY} characters is needed")
        try:
            body = request.json() if request.body else {}
        except ValueError:
            return error(400, "bad_request", "the body is not JSON")
        if not isinstance(body, dict):
            return error(400, "bad_request", "the body is a JSON object")
        fingerprint = [request.path, body]
        seen = self.keys.get(key)
        if seen is not None:
            if seen["request"] != fingerprint:
                return error(422, "idempotency_conflict", f"Idempotency-Key {key!r} was used for another request")
            return Reply(seen["status"], seen["answer"], outcome="replayed")
        if not rest:
            reply = self._hold(body, key)
        else:
            payment = self.payments.get(rest[0])
            if payment is None:
                return error(404, "payment_not_found", f"no payment {rest[0]!r}")
            action = {"clear": self._clear, "cancel": self._cancel, "refunds": self._refund}.get(rest[1])
            if action is None:
                return error(404, "not_found", f"no {request.method} {request.path}")
            reply = action(payment, body, key)
        if reply.status < 300:
            self.keys[key] = {"request": fingerprint, "status": reply.status, "answer": reply.body}
            self.save()
        return reply

    def _hold(self, body: dict[str, Any], key: str) -> Reply:
        amount, uid, card_id = _amount(body), body.get("uid"), body.get("card_id")
        currency = body.get("currency")
        if amount is None or not isinstance(uid, str) or not uid or not isinstance(currency, str):
            return error(400, "bad_request", 'a hold is {"card_id", "uid", "amount": "<decimal>", "currency"}')
        card = self.cards.get(card_id) if isinstance(card_id, str) else None
        if card is None:
            return error(422, "card_not_found", f"no card {card_id!r}")
        if card_id in self.declining:
            return error(422, "declined", "the card was declined")
        refused = self.family_cards.refuses(card_id, uid, amount)
        if refused is not None:
            return refused
        now = timestamp()
        payment = {
            "id": "pay-" + secrets.token_hex(10),
            "key": key,
            "card_id": card_id,
            "payer_uid": card["payer_uid"],
            "uid": uid,
            "amount": format_amount(amount),
            "currency": currency,
            "status": "HELD",
            "cleared_amount": "0.00",
            "refunds": [],
            "created_at": now,
            "updated_at": now,
        }
        self.payments[payment["id"]] = payment
        return Reply(201, payment, outcome="applied")

    def _clear(self, payment: dict[str, Any], body: dict[str, Any], key: str) -> Reply:
        amount = _amount(body)
        if amount is None:
            return error(400, "bad_request", 'a clear is {"amount": "<decimal>"}')
        if payment["status"] != "HELD":
            return error(409, "invalid_state", f"the payment is {payment['status']}")
        if amount > parse_amount(payment["amount"]):
            return error(422, "amount_exceeds_hold", "a clear takes at most the held amount")
        payment.update(status="CLEARED", cleared_amount=format_amount(amount), updated_at=timestamp())
        return Reply(200, payment, outcome="applied")

    def _cancel(self, payment: dict[str, Any], body: dict[str, Any], key: str) -> Reply:
        if payment["status"] != "HELD":
            return error(409, "invalid_state", f"the payment is {payment['status']}")
        payment.update(status="CANCELLED", updated_at=timestamp())
        return Reply(200, payment, outcome="applied")

    def _refund(self, payment: dict[str, Any], body: dict[str, Any], key: str) -> Reply:
        amount = _amount(body)
        if amount is None:
            return error(400, "bad_request", 'a refund is {"amount": "<decimal>"}')
        if payment["status"] != "CLEARED":
            return error(409, "invalid_state", f"the payment is {payment['status']}")
        refunded = sum(parse_amount(r["amount"]) for r in payment["refunds"])
        if refunded + amount > parse_amount(payment["cleared_amount"]):
            return error(422, "refund_exceeds_payment", "refunds would exceed what was cleared")
        now = timestamp()
        payment["refunds"].append(
            {"id": "refund-" + secrets.token_hex(10), "key": key, "amount": format_amount(amount), "created_at": now}
        )
        payment["updated_at"] = now
        return Reply(200, payment, outcome="applied")

    # -- control -------------------------------------------------------------------------------
    def handle_other(self, request: Request) -> Reply | None:  # noqa: PLR0911 (one answer per route)
        segments = request.segments
        with self.lock:
            match request.method, segments:
                case "GET", ["_emulator", "cards"]:
                    return Reply(
                        200, {"cards": query_filter(list(self.cards.values()), request.query, ("uid", "payer_uid"))}
                    )
                case "GET", ["_emulator", "payments"]:
                    payments = query_filter(list(self.payments.values()), request.query, ("uid", "card_id", "status"))
                    return Reply(200, {"payments": payments})
                case "POST", ["_emulator", "users", uid, "cards"]:
                    return self._bind_card(request, uid)
                case "POST", ["_emulator", "cards", card_id, "decline"]:
                    if card_id not in self.cards:
                        return error(404, "card_not_found", f"no card {card_id!r}")
                    try:
                        decline = request.json().get("decline", True) if request.body else True
                    except (ValueError, AttributeError):
                        return error(400, "bad_request", 'the body is {"decline": true|false}')
                    (self.declining.add if decline else self.declining.discard)(card_id)
                    self.save()
                    return Reply(200, {"id": card_id, "decline": bool(decline)})
        return None

    def _bind_card(self, request: Request, uid: str) -> Reply:
        try:
            body = request.json() if request.body else {}
        except ValueError:
            return error(400, "bad_request", "the body is not JSON")
        payer_uid = body.get("payer_uid", uid) if isinstance(body, dict) else None
        if not uid or len(uid) > _MAX_SEGMENT or not isinstance(payer_uid, str) or not payer_uid:
            return error(400, "bad_request", 'a card is bound to a uid, with {"payer_uid"?: "<uid>"}')
        last4 = body.get("number", "")[-4:] if isinstance(body.get("number"), str) else ""
        card = {
            "id": "card-x" + secrets.token_hex(10),
            "uid": uid,
            "payer_uid": payer_uid,
            "number": "555555******" + (last4 if len(last4) == 4 and last4.isdigit() else "4477"),
            "created_at": timestamp(),
        }
        self.cards[card["id"]] = card
        self.save()
        return Reply(201, card)


class CardsEmulator(Emulator):
    """The card payment system emulator, in a background thread (tests) or the foreground (`billy emulate cards`)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, state_file: Path | None = None, token: str = DEV_TOKEN
    ) -> None:
        super().__init__(CardsApp(token=token, state_file=state_file), host=host, port=port)


class CardsEmulatorControl(EmulatorControl):
    """Drives a running card payment system emulator's control API."""

    def bind_card(self, uid: str, *, payer_uid: str | None = None) -> str:
        body = {} if payer_uid is None else {"payer_uid": payer_uid}
        response = self._http.post(f"/_emulator/users/{uid}/cards", json=body)
        response.raise_for_status()
        return response.json()["id"]

    def decline(self, card_id: str, decline: bool = True) -> None:
        self._http.post(f"/_emulator/cards/{card_id}/decline", json={"decline": decline}).raise_for_status()

    def cards(self, **filters: str) -> list[dict[str, Any]]:
        return self._get("/_emulator/cards", **filters)["cards"]

    def payments(self, **filters: str) -> list[dict[str, Any]]:
        return self._get("/_emulator/payments", **filters)["payments"]
