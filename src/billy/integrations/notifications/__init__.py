"""The notification service, which sends messages to users, over HTTP JSON.

The calls, as the adapter speaks them (every request carries `Authorization: Bearer <token>`):

- `POST /v1/notifications` with `{"key", "scope", "user_id", "template", "params": {str: str}}` →
  201 `{"id", "key", "scope", "user_id", "template", "params", "at"}` for a new key; 200 with the
  same object when the key comes again with the same body (nothing is sent twice); 409
  `idempotency_conflict` when the key comes with another body.
- `GET /v1/notifications?scope=&user_id=` → 200 `{"notifications": [...]}`, oldest first.

Errors are `{"error": {"code", "message"}}`: 400 `bad_request`, 401 `unauthenticated`, 404
`not_found`, 409 `idempotency_conflict`. 429 and 5xx mean "retry later" with the same key.
"""

from django.conf import settings

from .port import Notifier


def get_notifier() -> Notifier:
    """The configured notification service adapter (settings.NOTIFICATIONS_URL, _TOKEN, _TIMEOUT)."""
    from .client import HttpNotifier

    return HttpNotifier(
        settings.NOTIFICATIONS_URL, settings.NOTIFICATIONS_TOKEN, timeout=settings.NOTIFICATIONS_TIMEOUT
    )
