"""The notification service port: sending a message to a user, and its errors.

Each notification carries an idempotency key derived from billy's own record, so a send whose
outcome is unknown is repeated with the same key and the user gets the message once:
`NotificationsUnavailable` covers both "not sent" and "maybe sent", and either way the answer is
to retry later. `NotificationRejected` means the service refused it; repeating will not help.
"""

from __future__ import annotations

from typing import Protocol


class NotificationsError(Exception):
    """Base of every notification service adapter error."""


class NotificationsUnavailable(NotificationsError):
    """Not reached, timed out, 5xx or 429: the outcome is unknown; retry later with the same key."""


class NotificationRejected(NotificationsError):
    """The service refused the notification (4xx, including a key reused with another body)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Notifier(Protocol):
    def send(self, *, key: str, scope: str, user_id: str, template: str, params: dict[str, str]) -> None:
        """Send `template` filled with `params` to `user_id` in `scope`, once per `key`."""
        ...
