"""The real card payment system adapter: HTTP JSON with httpx.

All protocol knowledge lives here: paths, the bearer token, the `Idempotency-Key` header, money as
decimal strings, the error body, and which answers mean "nothing happened" (connection refused,
503, 429) or "it may have happened" (a timeout, a dropped connection, another 5xx). Each call opens
its own connection.
"""

from __future__ import annotations

from typing import Any

import httpx

from billy.core.money import format_amount, parse_amount
from billy.integrations.http_json import Outcomes, call_json
from billy.integrations.http_json import path_segment as _segment

from .port import (
    Card,
    CardPayment,
    CardRefund,
    CardSystemOutcomeUnknown,
    CardSystemRejected,
    CardSystemUnavailable,
    FamilyLimit,
)

_OUTCOMES = Outcomes(unavailable=CardSystemUnavailable, unknown=CardSystemOutcomeUnknown, rejected=CardSystemRejected)


class HttpCardSystem:
    def __init__(self, url: str, token: str, *, connect_timeout: float = 3.0, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout)

    def _call(
        self, method: str, path: str, *, body: dict | None = None, key: str | None = None, params: dict | None = None
    ) -> Any:
        what = f"card payment system {method} {path}"
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        with httpx.Client(timeout=self.timeout) as http:
            return call_json(
                http, method, self.url + path, what=what, outcomes=_OUTCOMES, headers=headers, body=body, params=params
            )

    def list_payment_methods(self, *, uid: str) -> list[Card]:
        data = self._call("GET", f"/v1/users/{_segment(uid)}/payment-methods")
        try:
            return [
                Card(
                    id=c["id"],
                    uid=c["uid"],
                    payer_uid=c["payer_uid"],
                    number=c["number"],
                    family=_family_info(c["uid"], (c.get("payer_info") or {}).get("family_info")),
                )
                for c in data["payment_methods"]
            ]
        except (KeyError, TypeError, ValueError) as e:
            raise CardSystemUnavailable(f"card payment system: unexpected list of cards: {e}") from e

    def hold(self, *, card_id: str, uid: str, amount: int, currency: str, key: str) -> CardPayment:
        body = {"card_id": card_id, "uid": uid, "amount": format_amount(amount), "currency": currency}
        return _payment(self._call("POST", "/v1/payments", body=body, key=key))

    def clear(self, *, payment_id: str, amount: int, key: str) -> CardPayment:
        path = f"/v1/payments/{_segment(payment_id)}/clear"
        return _payment(self._call("POST", path, body={"amount": format_amount(amount)}, key=key))

    def cancel(self, *, payment_id: str, key: str) -> CardPayment:
        return _payment(self._call("POST", f"/v1/payments/{_segment(payment_id)}/cancel", body={}, key=key))

    def refund(self, *, payment_id: str, amount: int, key: str) -> CardPayment:
        path = f"/v1/payments/{_segment(payment_id)}/refunds"
        return _payment(self._call("POST", path, body={"amount": format_amount(amount)}, key=key))

    def get_payment(self, *, payment_id: str) -> CardPayment:
        return _payment(self._call("GET", f"/v1/payments/{_segment(payment_id)}"))

    def find_payment(self, *, key: str) -> CardPayment | None:
        payments = self._call("GET", "/v1/payments", params={"key": key}).get("payments") or []
        return _payment(payments[0]) if payments else None

    def put_family(
        self, *, family_id: str, card_id: str, owner_uid: str, members: list[tuple[str, int | None]]
    ) -> None:
        body = {
            "card_id": card_id,
            "owner_uid": owner_uid,
            "members": [
                {"uid": uid, "limit": None if limit is None else format_amount(limit), "frame": "month"}
                for uid, limit in members
            ],
        }
        self._call("PUT", f"/v1/families/{_segment(family_id)}", body=body)

    def family_limit(self, *, family_id: str, uid: str) -> FamilyLimit:
        data = self._call("GET", f"/v1/families/{_segment(family_id)}/members/{_segment(uid)}")
        try:
            return _family_info(uid, data)
        except (KeyError, TypeError, ValueError) as e:
            raise CardSystemUnavailable(f"card payment system: unexpected family limit {str(data)[:200]}: {e}") from e


def _optional_amount(value: str | None) -> int | None:
    return None if value is None else parse_amount(value)


def _family_info(uid: str, info: dict | None) -> FamilyLimit | None:
    if info is None:
        return None
    limit = _optional_amount(info.get("limit"))
    usage = parse_amount(info["usage"])
    remaining = info.get("remaining")
    return FamilyLimit(
        family_id=info["family_id"],
        uid=uid,
        usage=usage,
        limit=limit,
        remaining=_optional_amount(remaining)
        if "remaining" in info
        else (None if limit is None else max(0, limit - usage)),
        frame=info["frame"],
    )


def _payment(data: Any) -> CardPayment:
    try:
        return CardPayment(
            id=data["id"],
            key=data["key"],
            card_id=data["card_id"],
            uid=data["uid"],
            amount=parse_amount(data["amount"]),
            currency=data["currency"],
            status=data["status"],
            cleared_amount=parse_amount(data["cleared_amount"]),
            refunds=tuple(
                CardRefund(id=r["id"], key=r["key"], amount=parse_amount(r["amount"])) for r in data["refunds"]
            ),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise CardSystemOutcomeUnknown(f"card payment system: unexpected payment {str(data)[:200]}: {e}") from e
