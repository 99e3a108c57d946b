"""Balance calls billy: `BalanceClient.NotifyOrder` to the service's notification URL, with retries.

Whenever money arrives on an order (or is moved by credit onto it) the order's `Seq` rises and a
notification with its cumulative totals is queued. A background thread sends what is due; any answer
but `[0, "SUCCESS"]` (a fault, a non-200, no answer) is retried after 10 s, 1 min, 5 min, 30 min,
then hourly for a day, each wait multiplied by the `notify_scale` setting; then it is given up.
The notification switches, queued like faults:

- `lose_notification`: the next `count` notifications are never sent (recorded as `lost`);
- `repeat_notification`: the next `count` notifications are each sent `times` times;
- `reorder_notification`: the next `count` notifications are held until another one has been
  sent, so they arrive after it.

Every attempt is recorded (`GET /_emulator/notifications`): what was sent, where, and how billy
answered. A service without a notification URL gets nothing (recorded as `no_url`).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx

from billy.integrations.balance import notification, port

from .state import NOTIFICATION_FAULTS, BalanceState

RETRY_SCHEDULE_SECONDS = (10, 60, 300, 1800, *(3600,) * 24)
TIMEOUT_SECONDS = 5.0


def notify(state: BalanceState, order: dict[str, Any]) -> None:
    """Queue the order's totals as they are now, under the next Seq (under the state's lock)."""
    order["seq"] += 1
    payload = port.Notification(
        service_id=order["ServiceID"],
        order_id=order["OrderID"],
        seq=order["seq"],
        currency=order["Currency"],
        paid_total=order["paid"],
        credit_total=order["credit"],
        consumed_total=order["consumed"],
        at=state.now(),
    )
    item = {
        "id": str(uuid.uuid4()),
        "copy": 1,
        "ServiceID": payload.service_id,
        "OrderID": payload.order_id,
        "Seq": payload.seq,
        "body": notification.notify_order_body(payload).decode(),
        "attempt": 0,
        "next_at": time.time(),
        "held": False,
    }
    rule = state.take_fault(NOTIFICATION_FAULTS)
    if rule and rule.kind == "lose_notification":
        state.deliveries.append(_attempt(state, item, url=state.settings.url_for(item["ServiceID"]), outcome="lost"))
        return
    copies = rule.times if rule and rule.kind == "repeat_notification" else 1
    for copy in range(1, copies + 1):
        state.queue.append({**item, "copy": copy, "held": bool(rule and rule.kind == "reorder_notification")})
    state.save()
    state.wakeup.notify_all()


def _attempt(
    state: BalanceState,
    item: dict[str, Any],
    *,
    url: str | None,
    outcome: str,
    status: int | None = None,
    answer: str | None = None,
) -> dict[str, Any]:
    return {
        "seq": len(state.deliveries) + 1,
        "notification_id": item["id"],
        "copy": item["copy"],
        "ServiceID": item["ServiceID"],
        "OrderID": item["OrderID"],
        "Seq": item["Seq"],
        "body": item["body"],
        "url": url,
        "attempt": item["attempt"],
        "status": status,
        "answer": answer,
        "outcome": outcome,
        "at": state.now().isoformat(),
    }


def take_due(state: BalanceState) -> tuple[dict[str, Any], str | None, int] | None:
    """The next notification due, its URL and the state's generation; None when nothing is due."""
    with state.lock:
        now = time.time()
        due = [item for item in state.queue if not item["held"] and item["next_at"] <= now]
        if not due:
            return None
        item = min(due, key=lambda i: i["next_at"])
        state.queue.remove(item)
        item["attempt"] += 1
        return item, state.settings.url_for(item["ServiceID"]), state.generation


def record(
    state: BalanceState, item: dict[str, Any], url: str | None, generation: int, *, status: int | None, answer: str
) -> None:
    """Record an attempt; queue the next one by the schedule unless billy took it."""
    with state.lock:
        if generation != state.generation:
            return  # reset while it was in flight
        if url is None:
            outcome = "no_url"
        elif status == 200 and answer == "SUCCESS":
            outcome = "delivered"
        elif item["attempt"] > len(RETRY_SCHEDULE_SECONDS):
            outcome = "given_up"
        else:
            outcome = "failed"
            item["next_at"] = time.time() + RETRY_SCHEDULE_SECONDS[item["attempt"] - 1] * state.settings.notify_scale
            state.queue.append(item)
        state.deliveries.append(_attempt(state, item, url=url, outcome=outcome, status=status, answer=answer))
        for held in state.queue:  # a notification went out: the ones held for reordering follow it
            if held["held"] and held["id"] != item["id"]:
                held["held"] = False
                held["next_at"] = time.time()
        state.save()


def seconds_to_next(state: BalanceState) -> float:
    with state.lock:
        waits = [item["next_at"] - time.time() for item in state.queue if not item["held"]]
        return max(0.0, min(waits)) if waits else float("inf")


def send(http: httpx.Client, url: str, body: str) -> tuple[int | None, str]:
    """POST the call; the HTTP status and billy's answer (`SUCCESS`, `fault:CODE`, or what went wrong)."""
    try:
        response = http.post(url, content=body.encode(), headers={"Content-Type": "text/xml"})
    except httpx.HTTPError as e:
        return None, f"{type(e).__name__}: {e}"
    if notification.is_success(response.content):
        return response.status_code, "SUCCESS"
    return response.status_code, notification.describe_answer(response.content)


def deliver_forever(state: BalanceState, stopping: threading.Event, tick) -> None:
    """The background thread: run time-driven changes (`tick`) and send due notifications one by one."""
    with httpx.Client(timeout=TIMEOUT_SECONDS) as http:
        while not stopping.is_set():
            tick()
            due = take_due(state)
            if due is None:
                with state.wakeup:
                    # Wake for the next retry, and at least every 0.25 s for the clock's own changes.
                    state.wakeup.wait(timeout=min(seconds_to_next(state), 0.25))
                continue
            item, url, generation = due
            status, answer = (
                (None, "no notification URL for this service") if url is None else send(http, url, item["body"])
            )
            record(state, item, url, generation, status=status, answer=answer)
