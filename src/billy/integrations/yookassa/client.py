"""The real YooKassa adapter: API v3 over HTTP(S) with httpx, connect and read timeouts.

All protocol knowledge lives here: paths, Basic auth, the `Idempotence-Key` header, amounts as
`{"value": "100.00", "currency": "RUB"}`, the error body, cursor paging, and which transport
failures leave the outcome unknown. Each call opens its own connection: a pooled keep-alive
connection that the server has closed would fail a POST in a way that looks like an unknown
outcome when nothing was sent.

Request bodies are serialized canonically (sorted keys, no spaces, UTF-8), so a retry of the same
request with the same key is byte-identical to the first attempt.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx

from billy.core.money import format_amount, parse_amount

from .port import (
    Notification,
    PaymentRequest,
    ProviderNotFound,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    ProviderUnavailable,
    RefundRequest,
    ShopCredentials,
)

NOTIFICATION_EVENTS = frozenset(
    {"payment.succeeded", "payment.canceled", "payment.waiting_for_capture", "refund.succeeded"}
)
# Failures that happen before a byte of the request left: the call took no effect.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol, httpx.ProxyError)


def canonical_json(payload: Any) -> bytes:
    """The one serialization of a request body: equal payloads give equal bytes."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def format_timestamp(moment: dt.datetime) -> str:
    """YooKassa's timestamp form, `2026-11-23T12:00:00.000Z` (milliseconds, truncated)."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class YooKassaClient:
    def __init__(
        self,
        credentials: ShopCredentials,
        *,
        connect_timeout: float = 3.0,
        timeout: float = 10.0,
        page_size: int = 100,
    ) -> None:
        self.credentials = credentials
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.page_size = page_size  # YooKassa's maximum; lowered only to exercise paging

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        idempotence_key: str | None = None,
    ) -> dict[str, Any]:
        what = f"YooKassa {method} {path}"
        headers = {"Accept": "application/json"}
        content = None
        if body is not None:
            content = canonical_json(body)
            headers["Content-Type"] = "application/json"
        if idempotence_key is not None:
            headers["Idempotence-Key"] = idempotence_key
        try:
            with httpx.Client(
                base_url=self.credentials.api_url,
                auth=(self.credentials.shop_id, self.credentials.secret_key),
                timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
            ) as http:
                response = http.request(method, path, content=content, params=params, headers=headers)
        except _NOT_SENT as e:
            raise ProviderUnavailable(f"{what}: cannot connect: {type(e).__name__}: {e}") from e
        except httpx.TransportError as e:
            raise ProviderOutcomeUnknown(f"{what}: {type(e).__name__}: {e}") from e
        return _result(what, response)

    def create_payment(self, request: PaymentRequest, *, idempotence_key: str) -> ProviderPayment:
        body: dict[str, Any] = {
            "amount": _amount(request.amount, request.currency),
            "capture": request.capture,
            "description": request.description,
            "metadata": dict(request.metadata),
        }
        if request.payment_method_id:
            # A saved method is charged without the payer: no confirmation is asked for.
            body["payment_method_id"] = request.payment_method_id
        else:
            body["confirmation"] = {"type": "redirect", "return_url": request.return_url}
        if request.save_payment_method:
            body["save_payment_method"] = True
        return _payment(self._call("POST", "/payments", body=body, idempotence_key=idempotence_key))

    def get_payment(self, payment_id: str) -> ProviderPayment:
        return _payment(self._call("GET", f"/payments/{_segment(payment_id)}"))

    def find_payment(
        self, *, metadata_key: str, metadata_value: str, created_since: dt.datetime
    ) -> ProviderPayment | None:
        params = {"created_at.gte": format_timestamp(created_since), "limit": str(self.page_size)}
        while True:
            page = self._call("GET", "/payments", params=params)
            for item in _items(page):
                if (item.get("metadata") or {}).get(metadata_key) == metadata_value:
                    return _payment(item)  # newest first: the latest of any duplicates
            if not page.get("next_cursor"):
                return None
            params = {**params, "cursor": page["next_cursor"]}

    def create_refund(self, request: RefundRequest, *, idempotence_key: str) -> ProviderRefund:
        body = {
            "amount": _amount(request.amount, request.currency),
            "description": request.description,
            "payment_id": request.payment_id,
        }
        return _refund(self._call("POST", "/refunds", body=body, idempotence_key=idempotence_key))

    def get_refund(self, refund_id: str) -> ProviderRefund:
        return _refund(self._call("GET", f"/refunds/{_segment(refund_id)}"))

    def find_refunds(self, *, payment_id: str) -> list[ProviderRefund]:
        params = {"payment_id": payment_id, "limit": str(self.page_size)}
        refunds: list[ProviderRefund] = []
        while True:
            page = self._call("GET", "/refunds", params=params)
            refunds.extend(_refund(item) for item in _items(page))
            if not page.get("next_cursor"):
                return refunds
            params = {**params, "cursor": page["next_cursor"]}

    def parse_notification(self, body: bytes) -> Notification:
        return parse_notification(body)


def parse_notification(body: bytes) -> Notification:
    """A YooKassa webhook body, `{"type": "notification", "event": ..., "object": {"id": ...}}`.

    Raises ValueError saying what is wrong for anything else.
    """
    try:
        # UTF-8 only (json.loads would also take UTF-16/32), and no nesting deep enough to recurse out.
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"a notification is a JSON object in UTF-8: {str(e)[:200]}") from e
    if not isinstance(data, dict) or data.get("type") != "notification":
        raise ValueError('a notification is a JSON object with "type": "notification"')
    event = data.get("event")
    if event not in NOTIFICATION_EVENTS:
        raise ValueError(f"unsupported notification event {event!r}; expected one of {sorted(NOTIFICATION_EVENTS)}")
    obj = data.get("object")
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
        raise ValueError('a notification carries the object it is about, with a string "id"')
    if len(obj["id"]) > 64 or not obj["id"].isprintable():
        raise ValueError("an object id is at most 64 printable characters")
    payment_id = obj.get("payment_id")
    if not isinstance(payment_id, str) or len(payment_id) > 64 or not payment_id.isprintable():
        payment_id = ""
    return Notification(event=event, object_id=obj["id"], payment_id=payment_id)


def _result(what: str, response: httpx.Response) -> dict[str, Any]:
    status = response.status_code
    if status == 200:
        try:
            data = response.json()
        except ValueError as e:
            raise ProviderOutcomeUnknown(f"{what}: unreadable response: {e}") from e
        if not isinstance(data, dict):
            raise ProviderOutcomeUnknown(f"{what}: unexpected response {data!r}")
        return data
    if status == 429:
        raise ProviderUnavailable(f"{what}: 429 too many requests")
    if status >= 500 or status < 400:
        # 202 is YooKassa's "still processing this key, repeat later": the outcome is not known yet.
        raise ProviderOutcomeUnknown(f"{what}: HTTP {status}")
    try:
        error = response.json()
    except ValueError:
        error = {}
    if not isinstance(error, dict):
        error = {}
    code = str(error.get("code") or f"http_{status}")
    description = str(error.get("description") or response.reason_phrase)
    parameter = error.get("parameter")
    cls = ProviderNotFound if status == 404 else ProviderRejected
    raise cls(code, f"{what}: {description}", str(parameter) if parameter else None)


def _amount(minor: int, currency: str) -> dict[str, str]:
    return {"value": format_amount(minor), "currency": currency}


def _segment(object_id: str) -> str:
    """An id as one path segment: an id with a slash would address another resource."""
    if not object_id or "/" in object_id or object_id in (".", ".."):
        raise ProviderNotFound("not_found", f"not an object id: {object_id!r}")
    return object_id


def _items(page: dict[str, Any]) -> list[dict[str, Any]]:
    items = page.get("items")
    if not isinstance(items, list):
        raise ProviderOutcomeUnknown(f"YooKassa list without items: {page!r}")
    return items


def _timestamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def _payment(data: dict[str, Any]) -> ProviderPayment:
    try:
        cancellation = data.get("cancellation_details") or {}
        confirmation = data.get("confirmation") or {}
        method = data.get("payment_method") or {}
        return ProviderPayment(
            id=data["id"],
            status=data["status"],
            amount=parse_amount(data["amount"]["value"]),
            currency=data["amount"]["currency"],
            metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
            paid=bool(data["paid"]),
            confirmation_url=confirmation.get("confirmation_url"),
            cancellation_party=cancellation.get("party"),
            cancellation_reason=cancellation.get("reason"),
            created_at=_timestamp(data["created_at"]),
            payment_method_id=method.get("id"),
            payment_method_saved=bool(method.get("saved")),
            card_last4=(method.get("card") or {}).get("last4"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ProviderOutcomeUnknown(f"YooKassa answered an unreadable payment {data!r}: {e!r}") from e


def _refund(data: dict[str, Any]) -> ProviderRefund:
    try:
        cancellation = data.get("cancellation_details") or {}
        return ProviderRefund(
            id=data["id"],
            payment_id=data["payment_id"],
            status=data["status"],
            amount=parse_amount(data["amount"]["value"]),
            currency=data["amount"]["currency"],
            cancellation_party=cancellation.get("party"),
            cancellation_reason=cancellation.get("reason"),
            created_at=_timestamp(data["created_at"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ProviderOutcomeUnknown(f"YooKassa answered an unreadable refund {data!r}: {e!r}") from e
