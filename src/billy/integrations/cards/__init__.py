"""The card payment system that holds users' bound cards and the family card, over HTTP JSON.

The calls billy makes (every request carries `Authorization: Bearer <token>`; money is a decimal
string; every write carries `Idempotency-Key`: the same key and request return the first answer
and change nothing, the same key with another request is 422 `idempotency_conflict`):

- `GET /v1/users/{uid}/payment-methods` → `{"payment_methods": [{"id": "card-x…", "uid",
  "payer_uid", "number"}]}`: the cards bound to the user's account; a card whose `payer_uid` is
  someone else's is that person's card, which billy never offers as the user's own.
- `POST /v1/payments` `{"card_id", "uid", "amount", "currency"}` → 201 a payment `{"id": "pay-…",
  "key", "card_id", "payer_uid", "uid", "amount", "currency", "status": "HELD", "cleared_amount",
  "refunds": [{"id", "key", "amount"}]}`; 422 `card_not_found`, `declined`.
- `POST /v1/payments/{id}/clear` `{"amount"}` (at most the held amount) → the payment, `CLEARED`;
  `POST /v1/payments/{id}/cancel` → `CANCELLED`; `POST /v1/payments/{id}/refunds` `{"amount"}` →
  the payment with the new refund (422 `refund_exceeds_payment`); 409 `invalid_state` where the
  payment's state does not allow it.
- `GET /v1/payments/{id}`, and `GET /v1/payments?key=<idempotency key>` → `{"payments": [...]}`:
  how billy resolves a call whose outcome it did not learn.

- `PUT /v1/families/{family_id}` `{"card_id", "owner_uid", "members": [{"uid", "limit": "<decimal>"
  | null, "frame": "month"}]}` → 200: a migrated family's card (`family_id` is the identity
  provider's) with each member's limit; from then on the system keeps usage (its holds count, and a
  hold past a member's limit is 422 `limit_exceeded`), and lists the card for every member with
  `"payer_info": {"uid": <owner>, "family_info": {"family_id", "usage", "limit", "frame"}}`.
- `GET /v1/families/{family_id}/members/{uid}` → `{"family_id", "uid", "usage", "limit",
  "remaining", "frame"}`: the member's limit and what is left this frame.

Errors are `{"error": {"code", "message"}}`. 503 and 429 mean nothing was done; a timeout and other
5xx mean the outcome is unknown.
"""

from django.conf import settings

from .port import CardSystem


def get_card_system() -> CardSystem:
    """The configured adapter (settings.CARDS_URL, CARDS_TOKEN, CARDS_CONNECT_TIMEOUT, CARDS_TIMEOUT)."""
    from .client import HttpCardSystem

    return HttpCardSystem(
        settings.CARDS_URL,
        settings.CARDS_TOKEN,
        connect_timeout=settings.CARDS_CONNECT_TIMEOUT,
        timeout=settings.CARDS_TIMEOUT,
    )
