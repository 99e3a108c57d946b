"""A YooKassa emulator: API v3, a hosted payment page, webhooks and switchable faults.

It speaks enough of YooKassa's REST API (documented in `billy.integrations.yookassa`) for billy's
adapter and the official `yookassa` SDK (`Configuration.configure(shop_id, secret_key,
api_url=emulator.api_url)`) to work unchanged:

- `/v3` takes HTTP Basic auth; any non-empty shop id and secret key is accepted, and each shop
  sees only its own objects. Errors are YooKassa's `{"type": "error", "id", "code", "description",
  "parameter"}`.
- `POST /v3/payments`, `/v3/payments/{id}/capture`, `/v3/payments/{id}/cancel` and `/v3/refunds`
  require an `Idempotence-Key` (at most 64 characters). A successful answer is remembered for 24 h
  of emulator time: the same key with the same request (path and JSON body) gets the first answer
  again; the same key with another request is a 400. A refused request (4xx) is not remembered.
- `GET /v3/payments[/{id}]`, `GET /v3/refunds[/{id}]`; lists take `created_at.gte|gt|lte|lt`,
  `status`, `limit` (1..100, default 10), `cursor` (refunds also `payment_id`) and answer
  `{"type": "list", "items", "next_cursor"}`, newest first.
- A payment is `pending` until the payer acts on the hosted page; with `capture: false` paying
  makes it `waiting_for_capture` (then `/capture` or `/cancel`, or it expires after 7 days with
  `expired_on_capture`). A payment still pending `pending_ttl_seconds` after creation is canceled by
  `yoo_money` with `expired_on_confirmation`. Expiry is checked on every request and by the
  background thread, in emulator time.
- Refunds are allowed for succeeded payments, up to what is not yet refunded (pending refunds
  count); they are `succeeded` at once unless a fault says otherwise.

The hosted payment page, `GET /checkout/<payment id>` (the payment's `confirmation_url`), is a
form with `card_number`, `expiry` (MM/YY) and `cvc`, a "Pay" button (id `pay`) and a "Cancel
payment" button (id `cancel`). A card number that fails the Luhn check, a malformed or past expiry
or a malformed CVC shows the form again with an error (id `error`) and changes nothing. Test cards:

    5555555555554477 (and any other Luhn-valid number)  → succeeded (waiting_for_capture without capture)
    4000000000000002  → canceled, party `payment_network`, reason `insufficient_funds`
    4000000000000069  → canceled, party `payment_network`, reason `card_expired`

"Cancel payment" is the payer giving up: YooKassa would let the payment expire, so it is canceled
at once the way expiry would do it (party `yoo_money`, reason `expired_on_confirmation`). After the
payer acts (or when the payment is already final) the page answers 303 to the `return_url`.

Webhooks: each shop may have one target URL (constructor `webhooks`, the state file, or the
control API). `payment.waiting_for_capture`, `payment.succeeded`, `payment.canceled` and
`refund.succeeded` are POSTed as `{"type": "notification", "event", "object"}` with the full object
by a background thread, redelivered until the target answers 200, waiting `webhook_retry_seconds`
and doubling up to 30 s. Every attempt is recorded.

The control API, JSON under `/_emulator/`:

- `GET  /_emulator/payments`, `/_emulator/payments/<id>`, `/_emulator/refunds`  objects with `shop_id`
- `GET  /_emulator/requests[?operation=create_payment]`  the API request log (raw bodies), oldest first
- `GET  /_emulator/deliveries`                 webhook attempts and how many notifications wait
- `POST /_emulator/payments/<id>/succeed` `{"card_number"?}`  pay it as the page does
- `POST /_emulator/payments/<id>/cancel` `{"reason"?, "party"?}`  cancel a pending or
  waiting_for_capture payment (default: as the page's cancel button)
- `GET|POST /_emulator/webhooks` `{"shop_id", "url"}`  the shops' webhook targets (url null removes)
- `POST /_emulator/clock` `{"advance_seconds"}`  move emulator time forward (key expiry, TTLs)
- `POST /_emulator/faults` `{"kind", "count": 1, "seconds": 0, "operation": null, "times": 5, "reason"}`
  queue a fault for the next `count` API calls (of `operation`, or any), notifications or refunds:
    `error` → 500 `internal_server_error`, nothing done;
    `too_many_requests` → 429, nothing done;
    `delay` → wait `seconds`, then do the call;
    `commit_then_timeout` → do the call, wait `seconds`, close the connection without answering;
    `lose_webhook` → the next `count` notifications are never delivered;
    `repeat_webhook` → the next `count` notifications are each delivered `times` times;
    `delay_webhook` → the next `count` notifications wait `seconds` (real time) before their first
    delivery, so notifications sent after them arrive first (reordered);
    `refund_cancel` → the next `count` refunds end canceled (`yoo_money`, `reason` or `rejected_by_payee`);
    `refund_pending` → the next `count` refunds stay pending `seconds` of emulator time, then succeed
    (a test can settle them at once with `/_emulator/clock` instead of waiting).
- `GET|DELETE /_emulator/faults`               the queued faults; clear them
- `POST /_emulator/reset` `{"webhooks": false}`  forget objects, keys, logs, faults, queued
  notifications and the clock offset; webhook targets too when asked
- `GET  /health`

With `state_file`, payments, refunds, idempotence keys, webhook targets, queued notifications and
the clock offset survive a restart (the logs and faults do not). Confirmation URLs keep the address
they were made with: give a fixed `port` when the state is meant to outlive the process.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import html
import json
import logging
import re
import threading
import time
import urllib.parse
import uuid
import zlib
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from billy.core.money import format_amount, is_currency, parse_amount, prorate
from billy.integrations.emulation import EmulatorHandler, StateFile

logger = logging.getLogger(__name__)

API_FAULTS = ("error", "too_many_requests", "delay", "commit_then_timeout")
WEBHOOK_FAULTS = ("lose_webhook", "repeat_webhook", "delay_webhook")
FAULT_KINDS = (*API_FAULTS, *WEBHOOK_FAULTS, "refund_cancel", "refund_pending")
OPERATIONS = (
    "create_payment",
    "get_payment",
    "list_payments",
    "capture_payment",
    "cancel_payment",
    "create_refund",
    "get_refund",
    "list_refunds",
)
KEY_TTL_SECONDS = 24 * 3600
CAPTURE_TTL_SECONDS = 7 * 24 * 3600
WEBHOOK_BACKOFF_CAP_SECONDS = 30.0
WEBHOOK_TIMEOUT_SECONDS = 5.0
FEE_PER_MILLE = 35  # the shop's income is the amount less 3.5 %, as `income_amount` shows
DEFAULT_CARD = "5555555555554477"
DECLINED_CARDS = {"4000000000000002": "insufficient_funds", "4000000000000069": "card_expired"}
PAGE_CANCEL_REASON = "expired_on_confirmation"
# Who cancels for a reason, after YooKassa's table; any other reason is the card network's.
_REASON_PARTY = {
    "canceled_by_merchant": "merchant",
    "expired_on_confirmation": "yoo_money",
    "expired_on_capture": "yoo_money",
    "fraud_suspected": "yoo_money",
    "internal_timeout": "yoo_money",
}
_PAYMENT_STATUSES = ("pending", "waiting_for_capture", "succeeded", "canceled")
_REFUND_STATUSES = ("pending", "succeeded", "canceled")
_EXPIRY = re.compile(r"^(0[1-9]|1[0-2])\s*/\s*([0-9]{2})$")
_CVC = re.compile(r"^[0-9]{3,4}$")
_API_PATH = re.compile(r"^/v3/(payments|refunds)(?:/([^/]+))?(?:/(capture|cancel))?/?$")


# An HTTP answer: status, body, content type and optional extra headers.
_Reply = tuple[int, bytes, str] | tuple[int, bytes, str, dict[str, str]]


class ApiError(Exception):
    """A YooKassa error answer; raised before anything changes."""

    def __init__(self, status: int, code: str, description: str, parameter: str | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description
        self.parameter = parameter

    def body(self) -> dict[str, Any]:
        body = {"type": "error", "id": str(uuid.uuid4()), "code": self.code, "description": self.description}
        if self.parameter:
            body["parameter"] = self.parameter
        return body


def _invalid(description: str, parameter: str | None = None) -> ApiError:
    return ApiError(400, "invalid_request", description, parameter)


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclasses.dataclass
class _FaultRule:
    kind: str
    remaining: int
    seconds: float = 0.0
    operation: str | None = None
    times: int = 5
    reason: str | None = None


def timestamp(moment: dt.datetime) -> str:
    """YooKassa's form: `2026-11-23T12:00:00.000Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_time(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, digit in enumerate(int(d) for d in reversed(number)):
        doubled = digit * 2 if i % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def _card_type(number: str) -> str:
    if number.startswith("4"):
        return "Visa"
    if number[:2] in ("51", "52", "53", "54", "55") or "2221" <= number[:4] <= "2720":
        return "MasterCard"
    if number[:4] in ("2200", "2201", "2202", "2203", "2204"):
        return "MIR"
    return "Unknown"


def _party(reason: str) -> str:
    return _REASON_PARTY.get(reason, "payment_network")


def _money(value: Any, parameter: str) -> tuple[int, str]:
    """Minor units and currency of a YooKassa amount object; 400 naming the field otherwise."""
    if not isinstance(value, dict):
        raise _invalid(f"{parameter} is required: an object with value and currency", parameter)
    text = value.get("value")
    try:
        minor = parse_amount(text)
    except ValueError:
        raise _invalid(
            f'{parameter}.value must be a decimal string with at most 2 decimals, e.g. "100.00"', f"{parameter}.value"
        )
    if minor <= 0:
        raise _invalid(f"{parameter}.value must be greater than 0", f"{parameter}.value")
    if not is_currency(value.get("currency")):
        raise _invalid(f"{parameter}.currency must be an ISO 4217 code, e.g. RUB", f"{parameter}.currency")
    return minor, value["currency"]


def _amount(minor: int, currency: str) -> dict[str, str]:
    return {"value": format_amount(minor), "currency": currency}


class YooKassaState:
    """Objects per shop, idempotence keys, logs, faults and the notification queue, behind one lock."""

    def __init__(
        self,
        state_file: Path | None = None,
        *,
        webhooks: dict[str, str] | None = None,
        pending_ttl_seconds: float = 3600,
        webhook_retry_seconds: float = 0.5,
    ) -> None:
        self.lock = threading.RLock()
        self.wakeup = threading.Condition(self.lock)  # the delivery thread waits on it
        self.state_file = StateFile(state_file, lock=self.lock, snapshot=self._snapshot)
        self.pending_ttl_seconds = pending_ttl_seconds
        self.webhook_retry_seconds = webhook_retry_seconds
        self.base_url = ""  # set once the server is bound; confirmation URLs point at it
        self.payments: dict[str, dict[str, Any]] = {}  # id → {"shop_id", "seq", "created_ts", "object", ...}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, dict[str, Any]] = {}  # "shop_id\nkey" → {"fingerprint", "at_ts", "response"}
        self.webhooks: dict[str, str] = {}
        self.queue: list[dict[str, Any]] = []  # notifications waiting for (re)delivery
        self.clock_offset = 0.0
        self.seq = 0
        self.generation = 0  # bumped by reset, so an in-flight delivery is not queued again
        self.requests: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.faults: list[_FaultRule] = []
        saved = self.state_file.read()
        if saved is not None:
            self.payments = saved["payments"]
            self.refunds = saved["refunds"]
            self.keys = saved["keys"]
            self.webhooks = saved["webhooks"]
            self.queue = saved["queue"]
            self.clock_offset = saved["clock_offset"]
            self.seq = saved["seq"]
        self.webhooks.update(webhooks or {})

    # -- bookkeeping -------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        """Emulator time: the real clock moved forward by every `advance_clock`."""
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.clock_offset)

    def _save(self) -> None:
        self.state_file.changed()

    def _snapshot(self) -> dict[str, Any]:
        return {
            "payments": self.payments,
            "refunds": self.refunds,
            "keys": self.keys,
            "webhooks": self.webhooks,
            "queue": self.queue,
            "clock_offset": self.clock_offset,
            "seq": self.seq,
        }

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def reset(self, *, webhooks: bool = False) -> None:
        with self.lock:
            self.payments.clear()
            self.refunds.clear()
            self.keys.clear()
            self.queue.clear()
            self.requests.clear()
            self.deliveries.clear()
            self.faults.clear()
            self.clock_offset = 0.0
            self.generation += 1
            if webhooks:
                self.webhooks.clear()
            self._save()

    def advance_clock(self, seconds: float) -> dt.datetime:
        with self.lock:
            self.clock_offset += seconds
            self.tick()
            self._save()
            return self.now()

    def set_webhook(self, shop_id: str, url: str | None) -> None:
        with self.lock:
            if url:
                self.webhooks[shop_id] = url
            else:
                self.webhooks.pop(shop_id, None)
            self._save()

    def add_fault(self, rule: _FaultRule) -> None:
        with self.lock:
            self.faults.append(rule)

    def take_fault(self, kinds: tuple[str, ...], operation: str | None = None) -> _FaultRule | None:
        with self.lock:
            for rule in self.faults:
                if rule.kind in kinds and rule.operation in (None, operation):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self.faults.remove(rule)
                    return rule
        return None

    def log_request(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append({"seq": len(self.requests) + 1, **entry, "at": timestamp(self.now())})

    # -- time-driven changes -------------------------------------------------------------------
    def tick(self) -> None:
        """Expire what waited too long and settle refunds whose pending time is over."""
        with self.lock:
            now_ts = self.now().timestamp()
            changed = False
            for record in self.payments.values():
                status = record["object"]["status"]
                if status == "pending" and now_ts >= record["created_ts"] + self.pending_ttl_seconds:
                    self._cancel(record, "expired_on_confirmation")
                    changed = True
                elif status == "waiting_for_capture" and now_ts >= record["paid_ts"] + CAPTURE_TTL_SECONDS:
                    self._cancel(record, "expired_on_capture")
                    changed = True
            for record in self.refunds.values():
                settle_at = record.get("settle_at")  # emulator time
                if settle_at is not None and now_ts >= settle_at:
                    record["settle_at"] = None
                    self._refund_succeeded(record)
                    changed = True
            if changed:
                self._save()

    # -- payments ----------------------------------------------------------------------------
    def _payment(self, shop_id: str, payment_id: str) -> dict[str, Any]:
        record = self.payments.get(payment_id)
        if record is None or record["shop_id"] != shop_id:
            raise ApiError(404, "not_found", f"Payment {payment_id} doesn't exist or access to it is denied")
        return record

    def create_payment(self, shop_id: str, body: dict[str, Any]) -> dict[str, Any]:
        minor, currency = _money(body.get("amount"), "amount")
        confirmation = body.get("confirmation")
        if not isinstance(confirmation, dict) or confirmation.get("type") != "redirect":
            raise _invalid("confirmation must be {type: redirect, return_url}: the only kind emulated", "confirmation")
        return_url = confirmation.get("return_url")
        split = urllib.parse.urlsplit(return_url) if isinstance(return_url, str) else None
        if split is None or split.scheme not in ("http", "https") or not split.netloc or len(return_url) > 2048:
            raise _invalid("confirmation.return_url must be an http(s) URL", "confirmation.return_url")
        capture = body.get("capture", False)
        if not isinstance(capture, bool):
            raise _invalid("capture must be true or false", "capture")
        description = body.get("description")
        if description is not None and (not isinstance(description, str) or len(description) > 128):
            raise _invalid("description must be a string of at most 128 characters", "description")
        metadata = body.get("metadata")
        if metadata is not None and not _valid_metadata(metadata):
            raise _invalid("metadata: at most 16 keys of up to 32 characters, string values of up to 512", "metadata")
        with self.lock:
            now = self.now()
            payment_id = str(uuid.uuid4())
            obj: dict[str, Any] = {
                "id": payment_id,
                "status": "pending",
                "paid": False,
                "amount": _amount(minor, currency),
                "confirmation": {
                    "type": "redirect",
                    "return_url": return_url,
                    "confirmation_url": f"{self.base_url}/checkout/{payment_id}",
                },
                "created_at": timestamp(now),
                "recipient": {"account_id": shop_id, "gateway_id": str(100000 + zlib.crc32(shop_id.encode()) % 900000)},
                "refundable": False,
                "test": True,
            }
            if description is not None:
                obj["description"] = description
            if metadata is not None:
                obj["metadata"] = metadata
            self.payments[payment_id] = {
                "shop_id": shop_id,
                "seq": self._next_seq(),
                "created_ts": now.timestamp(),
                "capture": capture,
                "return_url": return_url,  # kept apart: the confirmation goes once the payer acts
                "object": obj,
            }
            self._save()
            return obj

    def get_payment(self, shop_id: str, payment_id: str) -> dict[str, Any]:
        with self.lock:
            return self._payment(shop_id, payment_id)["object"]

    def list_payments(self, shop_id: str, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            records = [r for r in self.payments.values() if r["shop_id"] == shop_id]
            return _page(records, query, _PAYMENT_STATUSES)

    def capture_payment(self, shop_id: str, payment_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            record = self._payment(shop_id, payment_id)
            obj = record["object"]
            if obj["status"] != "waiting_for_capture":
                raise _invalid(f"Payment in status {obj['status']} can't be captured", "payment_id")
            minor = parse_amount(obj["amount"]["value"])
            if body.get("amount") is not None:
                captured, currency = _money(body["amount"], "amount")
                if currency != obj["amount"]["currency"] or captured > minor:
                    raise _invalid("The captured amount must not exceed the payment's, in its currency", "amount")
                minor = captured
            obj["amount"] = _amount(minor, obj["amount"]["currency"])
            self._succeed(record)
            self._save()
            return obj

    def cancel_payment(self, shop_id: str, payment_id: str) -> dict[str, Any]:
        with self.lock:
            record = self._payment(shop_id, payment_id)
            if record["object"]["status"] != "waiting_for_capture":
                raise _invalid(f"Payment in status {record['object']['status']} can't be canceled", "payment_id")
            self._cancel(record, "canceled_by_merchant")
            self._save()
            return record["object"]

    # The payer's side: what the hosted page (and the control API) do.
    def pay(self, payment_id: str, card_number: str, expiry: tuple[int, int] | None = None) -> None:
        with self.lock:
            record = self.payments[payment_id]
            now = self.now()
            month, year = expiry or (12, now.year + 3)
            method = {
                "type": "bank_card",
                "id": str(uuid.uuid4()),
                "saved": False,
                "title": f"Bank card *{card_number[-4:]}",
                "card": {
                    "first6": card_number[:6],
                    "last4": card_number[-4:],
                    "expiry_month": f"{month:02d}",
                    "expiry_year": str(year),
                    "card_type": _card_type(card_number),
                    "issuer_country": "RU",
                },
            }
            record["object"]["payment_method"] = method
            decline = DECLINED_CARDS.get(card_number)
            if decline:
                self._cancel(record, decline)
            elif record["capture"]:
                record["paid_ts"] = now.timestamp()
                self._succeed(record)
            else:
                record["paid_ts"] = now.timestamp()
                obj = record["object"]
                obj.pop("confirmation", None)
                obj.update(
                    status="waiting_for_capture",
                    paid=True,
                    expires_at=timestamp(now + dt.timedelta(seconds=CAPTURE_TTL_SECONDS)),
                )
                self._notify(record["shop_id"], "payment.waiting_for_capture", obj)
            self._save()

    def payer_cancel(self, payment_id: str, reason: str, party: str | None = None) -> None:
        with self.lock:
            self._cancel(self.payments[payment_id], reason, party)
            self._save()

    def _succeed(self, record: dict[str, Any]) -> None:
        obj = record["object"]
        minor = parse_amount(obj["amount"]["value"])
        currency = obj["amount"]["currency"]
        obj.pop("confirmation", None)
        obj.pop("expires_at", None)
        obj.update(
            status="succeeded",
            paid=True,
            captured_at=timestamp(self.now()),
            refundable=True,
            refunded_amount=_amount(0, currency),
            income_amount=_amount(minor - prorate(minor, FEE_PER_MILLE, 1000), currency),
        )
        self._notify(record["shop_id"], "payment.succeeded", obj)

    def _cancel(self, record: dict[str, Any], reason: str, party: str | None = None) -> None:
        obj = record["object"]
        obj.pop("confirmation", None)
        obj.pop("expires_at", None)
        obj.update(
            status="canceled",
            paid=False,
            refundable=False,
            cancellation_details={"party": party or _party(reason), "reason": reason},
        )
        self._notify(record["shop_id"], "payment.canceled", obj)

    # -- refunds -----------------------------------------------------------------------------
    def create_refund(self, shop_id: str, body: dict[str, Any]) -> dict[str, Any]:
        payment_id = body.get("payment_id")
        if not isinstance(payment_id, str) or not payment_id:
            raise _invalid("payment_id is required", "payment_id")
        minor, currency = _money(body.get("amount"), "amount")
        description = body.get("description")
        if description is not None and (not isinstance(description, str) or len(description) > 250):
            raise _invalid("description must be a string of at most 250 characters", "description")
        with self.lock:
            payment = self.payments.get(payment_id)
            if payment is None or payment["shop_id"] != shop_id:
                raise _invalid(f"Payment {payment_id} doesn't exist or access to it is denied", "payment_id")
            paid = payment["object"]
            if paid["status"] != "succeeded":
                raise _invalid(f"Payment in status {paid['status']} can't be refunded", "payment_id")
            if currency != paid["amount"]["currency"]:
                raise _invalid("The refund's currency must be the payment's", "amount.currency")
            left = parse_amount(paid["amount"]["value"]) - sum(
                parse_amount(r["object"]["amount"]["value"])
                for r in self.refunds.values()
                if r["object"]["payment_id"] == payment_id and r["object"]["status"] in ("pending", "succeeded")
            )
            if minor > left:
                raise _invalid(
                    f"The refund amount exceeds what is left to refund ({format_amount(left)})", "amount.value"
                )
            obj: dict[str, Any] = {
                "id": str(uuid.uuid4()),
                "payment_id": payment_id,
                "status": "pending",
                "amount": _amount(minor, currency),
                "created_at": timestamp(self.now()),
            }
            if description is not None:
                obj["description"] = description
            record = {"shop_id": shop_id, "seq": self._next_seq(), "settle_at": None, "object": obj}
            self.refunds[obj["id"]] = record
            rule = self.take_fault(("refund_cancel", "refund_pending"))
            if rule and rule.kind == "refund_cancel":
                obj.update(
                    status="canceled",
                    cancellation_details={"party": "yoo_money", "reason": rule.reason or "rejected_by_payee"},
                )
            elif rule and rule.kind == "refund_pending":
                record["settle_at"] = self.now().timestamp() + rule.seconds
                self.wakeup.notify_all()
            else:
                self._refund_succeeded(record)
            self._save()
            return dict(obj)

    def _refund_succeeded(self, record: dict[str, Any]) -> None:
        obj = record["object"]
        obj["status"] = "succeeded"
        payment = self.payments[obj["payment_id"]]["object"]
        refunded = parse_amount(payment["refunded_amount"]["value"]) + parse_amount(obj["amount"]["value"])
        payment["refunded_amount"] = _amount(refunded, payment["amount"]["currency"])
        self._notify(record["shop_id"], "refund.succeeded", obj)

    def get_refund(self, shop_id: str, refund_id: str) -> dict[str, Any]:
        with self.lock:
            record = self.refunds.get(refund_id)
            if record is None or record["shop_id"] != shop_id:
                raise ApiError(404, "not_found", f"Refund {refund_id} doesn't exist or access to it is denied")
            return record["object"]

    def list_refunds(self, shop_id: str, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            records = [
                r
                for r in self.refunds.values()
                if r["shop_id"] == shop_id and query.get("payment_id") in (None, r["object"]["payment_id"])
            ]
            return _page(records, query, _REFUND_STATUSES)

    # -- idempotence ---------------------------------------------------------------------------
    def idempotent(self, shop_id: str, key: str, fingerprint: str, perform: Callable[[], dict]) -> tuple[dict, bool]:
        """The remembered answer for this key, or `perform()`'s, remembered; (answer, replayed)."""
        with self.lock:
            slot = f"{shop_id}\n{key}"
            saved = self.keys.get(slot)
            if saved and self.now().timestamp() >= saved["at_ts"] + KEY_TTL_SECONDS:
                del self.keys[slot]
                saved = None
            if saved:
                if saved["fingerprint"] != fingerprint:
                    raise _invalid("Idempotence key duplicated: it was used with another request", "Idempotence-Key")
                return saved["response"], True
            response = perform()
            self.keys[slot] = {"fingerprint": fingerprint, "at_ts": self.now().timestamp(), "response": response}
            self._save()
            return response, False

    # -- webhooks ------------------------------------------------------------------------------
    def _notify(self, shop_id: str, event: str, obj: dict[str, Any]) -> None:
        if shop_id not in self.webhooks:
            return  # a shop without a webhook target has no subscription: YooKassa sends nothing
        notification_id = str(uuid.uuid4())
        rule = self.take_fault(WEBHOOK_FAULTS)
        if rule and rule.kind == "lose_webhook":
            self.deliveries.append(
                self._attempt_entry(
                    {"id": notification_id, "shop_id": shop_id, "event": event, "object": obj, "attempt": 0},
                    url=self.webhooks[shop_id],
                    status=None,
                    error="lost by a lose_webhook fault",
                    outcome="lost",
                )
            )
            return
        copies = rule.times if rule and rule.kind == "repeat_webhook" else 1
        first_at = time.time() + (rule.seconds if rule and rule.kind == "delay_webhook" else 0)
        snapshot = json.loads(json.dumps(obj))  # the object as it is now, not as it will be
        for copy in range(1, copies + 1):
            self.queue.append(
                {
                    "id": notification_id,
                    "copy": copy,
                    "shop_id": shop_id,
                    "event": event,
                    "object": snapshot,
                    "attempt": 0,
                    "next_at": first_at,
                }
            )
        self.wakeup.notify_all()

    def _attempt_entry(
        self, item: dict[str, Any], *, url: str | None, status: int | None, error: str | None, outcome: str
    ) -> dict[str, Any]:
        return {
            "seq": len(self.deliveries) + 1,
            "notification_id": item["id"],
            "copy": item.get("copy", 1),
            "shop_id": item["shop_id"],
            "event": item["event"],
            "object_id": item["object"]["id"],
            "url": url,
            "attempt": item["attempt"],
            "status": status,
            "error": error,
            "outcome": outcome,
            "at": timestamp(self.now()),
        }

    def take_due(self) -> tuple[dict[str, Any], str | None, int] | None:
        """The next notification due for delivery, its target URL and the state generation."""
        with self.lock:
            now = time.time()
            due = [item for item in self.queue if item["next_at"] <= now]
            if not due:
                return None
            item = min(due, key=lambda i: i["next_at"])
            self.queue.remove(item)
            item["attempt"] += 1
            return item, self.webhooks.get(item["shop_id"]), self.generation

    def delivered(
        self, item: dict[str, Any], url: str | None, generation: int, status: int | None, error: str | None
    ) -> None:
        with self.lock:
            if generation != self.generation:
                return  # reset while it was in flight
            ok = status == 200
            outcome = "delivered" if ok else ("dropped" if url is None else "failed")
            self.deliveries.append(self._attempt_entry(item, url=url, status=status, error=error, outcome=outcome))
            if not ok and url is not None:
                backoff = min(self.webhook_retry_seconds * 2 ** (item["attempt"] - 1), WEBHOOK_BACKOFF_CAP_SECONDS)
                item["next_at"] = time.time() + backoff
                self.queue.append(item)
            self._save()

    def seconds_to_next_event(self) -> float:
        with self.lock:
            now, emulated_now = time.time(), self.now().timestamp()
            waits = [item["next_at"] - now for item in self.queue]  # retries wait real time
            waits += [r["settle_at"] - emulated_now for r in self.refunds.values() if r.get("settle_at") is not None]
            return max(0.0, min(waits)) if waits else float("inf")


def _valid_metadata(metadata: Any) -> bool:
    return (
        isinstance(metadata, dict)
        and len(metadata) <= 16
        and all(isinstance(k, str) and 0 < len(k) <= 32 for k in metadata)
        and all(isinstance(v, str) and len(v) <= 512 for v in metadata.values())
    )


def _page(records: list[dict[str, Any]], query: dict[str, str], statuses: tuple[str, ...]) -> dict[str, Any]:
    """A newest-first page of `records` after YooKassa's filters; the cursor is the last item's seq."""
    try:
        limit = int(query.get("limit", "10"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise _invalid("limit must be an integer from 1 to 100", "limit")
    bounds = []
    for op in ("gte", "gt", "lte", "lt"):
        name = f"created_at.{op}"
        if name in query:
            try:
                bounds.append((op, _parse_time(query[name])))
            except ValueError:
                raise _invalid(f"{name} must be an ISO 8601 timestamp, e.g. 2026-11-23T12:00:00.000Z", name)
    status = query.get("status")
    if status is not None and status not in statuses:
        raise _invalid(f"status must be one of {', '.join(statuses)}", "status")
    after = None
    if "cursor" in query:
        try:
            after = int(base64.urlsafe_b64decode(query["cursor"].encode()).decode())
        except (ValueError, binascii.Error):
            raise _invalid("cursor is not one this API gave", "cursor")
    checks = {
        "gte": lambda a, b: a >= b,
        "gt": lambda a, b: a > b,
        "lte": lambda a, b: a <= b,
        "lt": lambda a, b: a < b,
    }
    selected = [
        r
        for r in sorted(records, key=lambda r: r["seq"], reverse=True)
        if (after is None or r["seq"] < after)
        and (status is None or r["object"]["status"] == status)
        and all(checks[op](_parse_time(r["object"]["created_at"]), bound) for op, bound in bounds)
    ]
    page: dict[str, Any] = {"type": "list", "items": [r["object"] for r in selected[:limit]]}
    if len(selected) > limit:
        page["next_cursor"] = base64.urlsafe_b64encode(str(selected[limit - 1]["seq"]).encode()).decode()
    return page


def _route(method: str, path: str) -> tuple[str | None, str | None]:
    """The API operation a request names, and the object id in its path."""
    match = _API_PATH.match(path)
    if not match:
        return None, None
    collection, object_id, action = match.groups()
    noun = "payment" if collection == "payments" else "refund"
    if method == "POST" and object_id is None:
        return f"create_{noun}", None
    if method == "GET" and object_id is None:
        return f"list_{noun}s", None
    if method == "GET" and action is None:
        return f"get_{noun}", object_id
    if method == "POST" and noun == "payment" and action is not None:
        return f"{action}_payment", object_id
    return None, None


# -- the hosted payment page -------------------------------------------------------------------
_PAGE_STYLE = """
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  background: #f2f3f5; font: 16px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; }
main { width: 100%; max-width: 400px; margin: 24px; padding: 28px; background: #fff; border-radius: 16px;
  box-shadow: 0 4px 24px rgba(0, 0, 0, .08); }
.shop { margin: 0; color: #656d76; font-size: 14px; }
h1 { margin: 4px 0 4px; font-size: 32px; }
h1#status { font-size: 26px; }
.description { margin: 0 0 20px; color: #424a53; }
label { display: block; margin: 12px 0 4px; font-size: 13px; color: #656d76; }
input { width: 100%; padding: 12px; border: 1px solid #d0d7de; border-radius: 10px; font-size: 16px; }
input:focus { outline: 2px solid #7b61ff; border-color: transparent; }
.row { display: flex; gap: 12px; } .row > div { flex: 1; }
button { width: 100%; margin-top: 16px; padding: 14px; border: 0; border-radius: 10px; font-size: 16px;
  cursor: pointer; }
#pay { background: #7b61ff; color: #fff; font-weight: 600; }
#cancel { margin-top: 8px; background: transparent; color: #656d76; }
#error { margin: 0 0 8px; padding: 10px 12px; border-radius: 10px; background: #ffebe9; color: #82071e; }
.hint { margin: 20px 0 0; font-size: 12px; color: #8c959f; }
a { color: #7b61ff; }
"""


def _html_page(title: str, content: str) -> bytes:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_PAGE_STYLE}</style></head>"
        f"<body><main>{content}</main></body></html>\n"
    ).encode()


def _display_amount(obj: dict[str, Any]) -> str:
    currency = obj["amount"]["currency"]
    return f"{obj['amount']['value']} {'₽' if currency == 'RUB' else currency}"


def checkout_form(
    record: dict[str, Any], *, error: str | None = None, card_number: str = "", expiry: str = ""
) -> bytes:
    obj = record["object"]
    amount = html.escape(_display_amount(obj))
    error_html = f'<p id="error" role="alert">{html.escape(error)}</p>' if error else ""
    content = f"""
<p class="shop">Shop {html.escape(record["shop_id"])}</p>
<h1>{amount}</h1>
<p class="description">{html.escape(obj.get("description", ""))}</p>
{error_html}
<form method="post" action="/checkout/{html.escape(obj["id"])}">
  <label for="card-number">Card number</label>
  <input id="card-number" name="card_number" inputmode="numeric" autocomplete="cc-number"
    placeholder="5555 5555 5555 4477" required value="{html.escape(card_number)}">
  <div class="row">
    <div><label for="expiry">Expiry</label>
      <input id="expiry" name="expiry" placeholder="MM/YY" autocomplete="cc-exp" required
        value="{html.escape(expiry)}"></div>
    <div><label for="cvc">CVC</label>
      <input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="123" maxlength="4"
        required></div>
  </div>
  <button id="pay" type="submit" name="action" value="pay">Pay {amount}</button>
  <button id="cancel" type="submit" name="action" value="cancel" formnovalidate>Cancel payment</button>
</form>
<p class="hint">Test payment page. 5555 5555 5555 4477 pays; 4000 0000 0000 0002 is declined for
insufficient funds, 4000 0000 0000 0069 as expired.</p>
"""
    return _html_page(f"Payment of {_display_amount(obj)}", content)


def _final_page(record: dict[str, Any]) -> bytes:
    obj = record["object"]
    words = {
        "succeeded": "Payment succeeded",
        "canceled": "Payment canceled",
        "waiting_for_capture": "Payment authorized",
    }
    title = words.get(obj["status"], obj["status"])
    link = f'<p><a id="return" href="{html.escape(record["return_url"])}">Return to the shop</a></p>'
    content = (
        f'<p class="shop">Shop {html.escape(record["shop_id"])}</p><h1 id="status">{html.escape(title)}</h1>'
        f'<p class="description">{html.escape(obj.get("description", ""))}'
        f" · {html.escape(_display_amount(obj))}</p>{link}"
    )
    return _html_page(title, content)


def _card_error(card_number: str, expiry: str, cvc: str, now: dt.datetime) -> tuple[str | None, tuple[int, int] | None]:
    """What the page's validation says about the entered card, and its expiry (month, year)."""
    if not luhn_valid(card_number):
        return "The card number is invalid: check it and try again.", None
    match = _EXPIRY.match(expiry)
    if not match:
        return "Enter the expiry date as MM/YY.", None
    month, year = int(match.group(1)), 2000 + int(match.group(2))
    if (year, month) < (now.year, now.month):
        return "This card has expired.", None
    if not _CVC.match(cvc):
        return "The CVC is the 3 or 4 digits on the back of the card.", None
    return None, (month, year)


class _Handler(EmulatorHandler):
    server: _Server

    def emulator_name(self) -> str:
        return "yookassa"

    @property
    def state(self) -> YooKassaState:
        return self.server.state

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        body = self._body()
        self.state.tick()
        if url.path.startswith("/v3/"):
            self._api(method, url, body)
        elif url.path.startswith("/checkout/"):
            self._send(*self._checkout(method, url.path.removeprefix("/checkout/"), body))
        elif url.path.startswith("/_emulator/"):
            try:
                status, payload = self._control(method, url, body)
            except ControlError as e:
                status, payload = e.status, json.dumps({"error": str(e)}).encode()
            self._send(status, payload, "application/json; charset=utf-8")
        elif url.path == "/health" and method == "GET":
            self._json(200, {"status": "ok"})
        else:
            self._json(404, {"error": "not found"})

    # -- /v3 -----------------------------------------------------------------------------------
    def _shop_id(self) -> str | None:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            shop_id, _, secret = base64.b64decode(token, validate=True).decode().partition(":")
        except (ValueError, binascii.Error):
            return None
        return shop_id if shop_id and secret else None

    def _api(self, method: str, url: urllib.parse.SplitResult, body: bytes) -> None:
        operation, object_id = _route(method, url.path)
        shop_id = self._shop_id()
        key = self.headers.get("Idempotence-Key")
        entry = {
            "operation": operation,
            "shop_id": shop_id,
            "method": method,
            "path": url.path + (f"?{url.query}" if url.query else ""),
            "idempotence_key": key,
            "body": body.decode(errors="replace"),
        }
        if operation is None or shop_id is None:
            error = (
                ApiError(404, "not_found", f"Unknown method {method} {url.path}")
                if operation is None
                else ApiError(401, "invalid_credentials", "Authentication by shop id and secret key failed")
            )
            self.state.log_request({**entry, "status": error.status, "outcome": error.code})
            self._json(error.status, error.body())
            return
        rule = self.state.take_fault(API_FAULTS, operation)
        if rule and rule.kind in ("error", "too_many_requests"):
            error = (
                ApiError(500, "internal_server_error", "Internal server error: repeat the request with the same key")
                if rule.kind == "error"
                else ApiError(429, "too_many_requests", "Too many requests: slow down")
            )
            self.state.log_request({**entry, "status": error.status, "outcome": f"fault:{rule.kind}"})
            self._json(error.status, error.body())
            return
        if rule and rule.kind == "delay":
            time.sleep(rule.seconds)
        try:
            response, replayed = self._perform(
                operation, object_id=object_id, shop_id=shop_id, key=key, url=url, body=body
            )
            status, payload, outcome = 200, response, "replay" if replayed else "ok"
        except ApiError as e:
            status, payload, outcome = e.status, e.body(), e.code
        if rule and rule.kind == "commit_then_timeout":
            self.state.log_request({**entry, "status": status, "outcome": outcome + ":late"})
            time.sleep(rule.seconds)
            self.close_connection = True
            return
        self.state.log_request({**entry, "status": status, "outcome": outcome})
        self._json(status, payload)

    def _perform(
        self,
        operation: str,
        *,
        object_id: str | None,
        shop_id: str,
        key: str | None,
        url: urllib.parse.SplitResult,
        body: bytes,
    ) -> tuple[dict[str, Any], bool]:
        state = self.state
        if operation in ("get_payment", "get_refund"):
            getter = state.get_payment if operation == "get_payment" else state.get_refund
            return getter(shop_id, object_id), False
        if operation in ("list_payments", "list_refunds"):
            query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
            lister = state.list_payments if operation == "list_payments" else state.list_refunds
            return lister(shop_id, query), False
        if not key:
            raise _invalid("Idempotence-Key header is required", "Idempotence-Key")
        if len(key) > 64:
            raise _invalid("Idempotence-Key must be at most 64 characters", "Idempotence-Key")
        try:
            data = json.loads(body) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _invalid("The request body is not valid JSON")
        if not isinstance(data, dict):
            raise _invalid("The request body must be a JSON object")
        fingerprint = url.path + "\n" + json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        actions: dict[str, Callable[[], dict[str, Any]]] = {
            "create_payment": lambda: state.create_payment(shop_id, data),
            "capture_payment": lambda: state.capture_payment(shop_id, object_id, data),
            "cancel_payment": lambda: state.cancel_payment(shop_id, object_id),
            "create_refund": lambda: state.create_refund(shop_id, data),
        }
        # A copy: the stored answer must not follow later changes of the object.
        return state.idempotent(shop_id, key, fingerprint, lambda: json.loads(json.dumps(actions[operation]())))

    # -- the hosted page -----------------------------------------------------------------------
    def _checkout(self, method: str, payment_id: str, body: bytes) -> _Reply:
        """The page's answer, decided under the lock and sent after it (a slow browser blocks no one)."""
        state = self.state
        html_type = "text/html; charset=utf-8"
        with state.lock:
            record = state.payments.get(payment_id)
            if record is None or method not in ("GET", "POST"):
                content = "<h1>Payment not found</h1><p>There is no payment at this address.</p>"
                return 404, _html_page("Payment not found", content), html_type
            obj = record["object"]
            redirect = (303, b"", "text/plain", {"Location": record["return_url"]})
            if method == "GET":
                return 200, checkout_form(record) if obj["status"] == "pending" else _final_page(record), html_type
            if obj["status"] != "pending":
                return redirect
            form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode(errors="replace")).items()}
            if form.get("action") == "cancel":
                state.payer_cancel(payment_id, PAGE_CANCEL_REASON)
                return redirect
            card_number = re.sub(r"[\s-]", "", form.get("card_number", ""))
            expiry_text = form.get("expiry", "").strip()
            error, expiry = _card_error(card_number, expiry_text, form.get("cvc", "").strip(), state.now())
            if error:
                entered = form.get("card_number", "")
                return 200, checkout_form(record, error=error, card_number=entered, expiry=expiry_text), html_type
            state.pay(payment_id, card_number, expiry)
            return redirect

    # -- control API ---------------------------------------------------------------------------
    def _control(self, method: str, url: urllib.parse.SplitResult, body: bytes) -> tuple[int, bytes]:
        state = self.state
        path = url.path.removeprefix("/_emulator")
        try:
            spec = json.loads(body) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ControlError(400, f"the body is not JSON: {e}")
        if not isinstance(spec, dict):
            raise ControlError(400, "the body must be a JSON object")
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        with state.lock:  # serialized under the lock: the objects change under other threads
            return 200, json.dumps(self._control_action(method, path, spec, query), ensure_ascii=False).encode()

    def _control_action(self, method: str, path: str, spec: dict[str, Any], query: dict[str, str]) -> Any:
        state = self.state
        match = re.fullmatch(r"/payments/([^/]+)(?:/(succeed|cancel))?", path)
        if match and (method == "POST") == bool(match.group(2)):
            return self._payment_control(match.group(1), match.group(2), spec)
        routes: dict[tuple[str, str], Callable[[], Any]] = {
            ("GET", "/payments"): lambda: {"payments": _listing(state.payments)},
            ("GET", "/refunds"): lambda: {"refunds": _listing(state.refunds)},
            ("GET", "/requests"): lambda: {
                "requests": [r for r in state.requests if query.get("operation") in (None, r["operation"])]
            },
            ("GET", "/deliveries"): lambda: {"deliveries": state.deliveries, "queued": len(state.queue)},
            ("GET", "/webhooks"): lambda: {"webhooks": state.webhooks},
            ("POST", "/webhooks"): lambda: self._set_webhook(spec),
            ("POST", "/clock"): lambda: self._advance_clock(spec),
            ("GET", "/faults"): lambda: {"faults": [dataclasses.asdict(f) for f in state.faults]},
            ("POST", "/faults"): lambda: self._add_fault(spec),
            ("DELETE", "/faults"): self._clear_faults,
            ("POST", "/reset"): lambda: self._reset(spec),
        }
        action = routes.get((method, path))
        if action is None:
            raise ControlError(404, "not found")
        return action()

    def _set_webhook(self, spec: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(spec.get("shop_id"), str) or not spec["shop_id"]:
            raise ControlError(400, "shop_id is required")
        self.state.set_webhook(spec["shop_id"], spec.get("url"))
        return {"webhooks": self.state.webhooks}

    def _advance_clock(self, spec: dict[str, Any]) -> dict[str, Any]:
        try:
            seconds = float(spec["advance_seconds"])
        except (KeyError, TypeError, ValueError):
            raise ControlError(400, "advance_seconds (a number >= 0) is required")
        if seconds < 0:
            raise ControlError(400, "emulator time only moves forward")
        return {"now": timestamp(self.state.advance_clock(seconds))}

    def _add_fault(self, spec: dict[str, Any]) -> dict[str, Any]:
        rule = _fault_rule(spec)
        self.state.add_fault(rule)
        return dataclasses.asdict(rule)

    def _clear_faults(self) -> dict[str, Any]:
        self.state.faults.clear()
        return {"faults": []}

    def _reset(self, spec: dict[str, Any]) -> dict[str, Any]:
        self.state.reset(webhooks=bool(spec.get("webhooks", False)))
        return {"status": "reset"}

    def _payment_control(self, payment_id: str, action: str | None, spec: dict[str, Any]) -> dict[str, Any]:
        """Read a payment, or act as its payer would: pay it (as the page does) or cancel it."""
        state = self.state
        record = state.payments.get(payment_id)
        if record is None:
            raise ControlError(404, f"no payment {payment_id}")
        status = record["object"]["status"]
        if action == "succeed":
            card_number = str(spec.get("card_number") or DEFAULT_CARD)
            if status != "pending":
                raise ControlError(409, f"payment {payment_id} is {status}, not pending")
            if not luhn_valid(card_number):
                raise ControlError(400, f"{card_number} is not a Luhn-valid card number")
            state.pay(payment_id, card_number)
        elif action == "cancel":
            if status not in ("pending", "waiting_for_capture"):
                raise ControlError(409, f"payment {payment_id} is {status}: only pending or authorized ones cancel")
            state.payer_cancel(payment_id, str(spec.get("reason") or PAGE_CANCEL_REASON), spec.get("party"))
        return {"shop_id": record["shop_id"], **record["object"]}


def _listing(records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"shop_id": r["shop_id"], **r["object"]} for r in sorted(records.values(), key=lambda r: r["seq"])]


def _fault_rule(spec: dict[str, Any]) -> _FaultRule:
    try:
        rule = _FaultRule(
            kind=spec["kind"],
            remaining=int(spec.get("count", 1)),
            seconds=float(spec.get("seconds", 0)),
            operation=spec.get("operation"),
            times=int(spec.get("times", 5)),
            reason=spec.get("reason"),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ControlError(400, f"bad fault spec: {e!r}")
    if rule.kind not in FAULT_KINDS:
        raise ControlError(400, f"kind must be one of {FAULT_KINDS}")
    if rule.remaining < 1 or rule.times < 1 or rule.seconds < 0:
        raise ControlError(400, "count and times must be >= 1 and seconds >= 0")
    if rule.operation is not None and (rule.operation not in OPERATIONS or rule.kind not in API_FAULTS):
        raise ControlError(400, f"operation filters API faults {API_FAULTS} and is one of {OPERATIONS}")
    return rule


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: YooKassaState) -> None:
        super().__init__(address, _Handler)
        self.state = state


class YooKassaEmulator:
    """Run the emulator in background threads (tests) or in the foreground (`billy emulate yookassa`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: Path | None = None,
        *,
        webhooks: dict[str, str] | None = None,
        webhook_retry_seconds: float = 0.5,
        pending_ttl_seconds: float = 3600,
    ) -> None:
        self.state = YooKassaState(
            state_file,
            webhooks=webhooks,
            pending_ttl_seconds=pending_ttl_seconds,
            webhook_retry_seconds=webhook_retry_seconds,
        )
        self._server = _Server((host, port), self.state)
        self.state.base_url = self.base_url
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._delivery_thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        """The API root to give billy (ShopCredentials.api_url) or the SDK (`api_url=`)."""
        return self.base_url + "/v3"

    def start(self) -> YooKassaEmulator:
        self._start_delivery()
        # A short poll interval, so stop() returns promptly (tests restart emulators).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="yookassa-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._start_delivery()
        try:
            self._server.serve_forever()
        finally:
            self._stop_delivery()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._stop_delivery()
        self.state.state_file.flush()

    def _start_delivery(self) -> None:
        self._stopping.clear()
        self._delivery_thread = threading.Thread(target=self._deliver, name="yookassa-webhooks", daemon=True)
        self._delivery_thread.start()

    def _stop_delivery(self) -> None:
        self._stopping.set()
        with self.state.wakeup:
            self.state.wakeup.notify_all()
        if self._delivery_thread is not None:
            self._delivery_thread.join(timeout=WEBHOOK_TIMEOUT_SECONDS * 2)

    def _deliver(self) -> None:
        """Send due notifications one by one, and run time-driven changes (expiry, pending refunds)."""
        state = self.state
        with httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS) as http:
            while not self._stopping.is_set():
                state.tick()
                due = state.take_due()
                if due is None:
                    with state.wakeup:
                        # Wake for the next retry or settlement, and at least every 0.25 s for expiry.
                        state.wakeup.wait(timeout=min(state.seconds_to_next_event(), 0.25))
                    continue
                item, url, generation = due
                status, error = None, None
                if url is None:
                    error = "the shop has no webhook URL any more"
                else:
                    body = json.dumps(
                        {"type": "notification", "event": item["event"], "object": item["object"]},
                        ensure_ascii=False,
                    ).encode()
                    try:
                        status = http.post(url, content=body, headers={"Content-Type": "application/json"}).status_code
                    except httpx.HTTPError as e:
                        error = f"{type(e).__name__}: {e}"
                state.delivered(item, url, generation, status, error)


class YooKassaEmulatorControl:
    """Drives a running emulator's control API and payment page (tests, `billy dev`)."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=10)

    def _post(self, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._http.post(path, json=payload or {})
        response.raise_for_status()
        return response.json()

    def payments(self) -> list[dict[str, Any]]:
        return self._http.get("/_emulator/payments").json()["payments"]

    def payment(self, payment_id: str) -> dict[str, Any]:
        response = self._http.get(f"/_emulator/payments/{payment_id}")
        response.raise_for_status()
        return response.json()

    def refunds(self) -> list[dict[str, Any]]:
        return self._http.get("/_emulator/refunds").json()["refunds"]

    def requests(self, operation: str | None = None) -> list[dict[str, Any]]:
        params = {"operation": operation} if operation else None
        return self._http.get("/_emulator/requests", params=params).json()["requests"]

    def deliveries(self) -> list[dict[str, Any]]:
        return self._http.get("/_emulator/deliveries").json()["deliveries"]

    def queued_notifications(self) -> int:
        return self._http.get("/_emulator/deliveries").json()["queued"]

    def succeed(self, payment_id: str) -> dict[str, Any]:
        return self._post(f"/_emulator/payments/{payment_id}/succeed")

    def cancel(self, payment_id: str, reason: str = PAGE_CANCEL_REASON) -> dict[str, Any]:
        return self._post(f"/_emulator/payments/{payment_id}/cancel", {"reason": reason})

    def pay(self, payment_id: str, card_number: str = DEFAULT_CARD) -> str:
        """Submit the hosted page's form as a browser would; the payment's status after it.

        Raises ValueError with the page's message when the form refuses the card.
        """
        expiry = f"12/{(dt.datetime.now(dt.UTC).year + 3) % 100:02d}"
        response = self._http.post(
            f"/checkout/{payment_id}",
            data={"card_number": card_number, "expiry": expiry, "cvc": "123", "action": "pay"},
        )
        if response.status_code != 303:
            message = re.search(r'<p id="error"[^>]*>(.*?)</p>', response.text, re.S)
            raise ValueError(
                html.unescape(message.group(1)) if message else f"the page answered {response.status_code}"
            )
        return self.payment(payment_id)["status"]

    def register_webhook(self, shop_id: str, url: str | None) -> None:
        self._post("/_emulator/webhooks", {"shop_id": shop_id, "url": url})

    def inject(
        self,
        kind: str,
        *,
        count: int = 1,
        seconds: float = 0,
        operation: str | None = None,
        times: int = 5,
        reason: str | None = None,
    ) -> None:
        self._post(
            "/_emulator/faults",
            {
                "kind": kind,
                "count": count,
                "seconds": seconds,
                "operation": operation,
                "times": times,
                "reason": reason,
            },
        )

    def clear_faults(self) -> None:
        self._http.delete("/_emulator/faults").raise_for_status()

    def advance_clock(self, seconds: float) -> None:
        self._post("/_emulator/clock", {"advance_seconds": seconds})

    def reset(self, webhooks: bool = False) -> None:
        self._post("/_emulator/reset", {"webhooks": webhooks})
