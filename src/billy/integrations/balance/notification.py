"""Balance calls billy: `BalanceClient.NotifyOrder`, read from its XML-RPC request body, and the answers.

billy's endpoint calls `parse_notify_order(body)` and answers `success_body()` once it has stored
the notification, or `fault_body(...)` (or any non-200) to have Balance retry later. The
notification is a hint: cumulative totals with a per-order `Seq`, so a repeated or late one carries
nothing new.
"""

from __future__ import annotations

import xmlrpc.client
from xml.parsers.expat import ExpatError

from . import port, wire

METHOD = "BalanceClient.NotifyOrder"


class MalformedNotification(ValueError):
    """The body is not a `BalanceClient.NotifyOrder` call as the protocol spells it; `field` names
    what is wrong (None for the body as a whole)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def parse_notify_order(body: bytes) -> port.Notification:
    """The notification in a NotifyOrder request body; MalformedNotification otherwise."""
    try:
        params, method = xmlrpc.client.loads(body, use_builtin_types=True)
    except (ExpatError, xmlrpc.client.ResponseError, ValueError, TypeError) as e:
        raise MalformedNotification(f"not an XML-RPC call: {e}") from e
    if method != METHOD:
        raise MalformedNotification(f"the method is {method!r}, not {METHOD}")
    if len(params) != 1 or not isinstance(params[0], dict):
        raise MalformedNotification("NotifyOrder takes one struct")
    struct = params[0]
    try:
        notification = wire.parse_notification(struct)
    except KeyError as e:
        raise MalformedNotification(f"{e.args[0]} is missing", field=e.args[0]) from e
    except (TypeError, ValueError) as e:
        field = str(e).split(":", 1)[0] if isinstance(e, wire.WireError) else None
        raise MalformedNotification(f"malformed NotifyOrder: {e}", field=field) from e
    if notification.seq < 1:
        raise MalformedNotification("Seq starts at 1", field="Seq")
    return notification


def notify_order_body(notification: port.Notification) -> bytes:
    """The request body Balance sends (the emulator's, and tests')."""
    return xmlrpc.client.dumps((wire.notification_params(notification),), METHOD).encode()


def success_body() -> bytes:
    """`[0, "SUCCESS"]`: the notification is taken; Balance stops retrying it."""
    return xmlrpc.client.dumps(([0, "SUCCESS"],), methodresponse=True).encode()


def fault_body(code: str, message: str) -> bytes:
    """A fault in Balance's format: Balance retries the notification later."""
    return xmlrpc.client.dumps(xmlrpc.client.Fault(-1, wire.fault_string(code, message)), methodresponse=True).encode()


def describe_answer(body: bytes) -> str:
    """An answer to NotifyOrder in a word: `SUCCESS`, `fault:<code>`, or what else it was."""
    try:
        (result,), _ = xmlrpc.client.loads(body)
    except xmlrpc.client.Fault as f:
        return "fault:" + wire.parse_fault(str(f.faultString))[0]
    except (ExpatError, xmlrpc.client.ResponseError, ValueError, TypeError):
        return "unreadable"
    if isinstance(result, list | tuple) and list(result[:2]) == [0, "SUCCESS"]:
        return "SUCCESS"
    return f"unexpected: {result!r}"


def is_success(body: bytes) -> bool:
    """Whether an answer to NotifyOrder is `[0, "SUCCESS"]` (what Balance looks for)."""
    return describe_answer(body) == "SUCCESS"
