"""The card payment provider, YooKassa, over its REST API v3.

The methods billy uses, as the adapter speaks them (HTTP Basic auth `shop_id:secret_key`; amounts
are `{"value": "100.00", "currency": "RUB"}`; timestamps `2026-11-23T12:00:00.000Z`, UTC):

- `POST /v3/payments` with an `Idempotence-Key` header and
  `{amount, capture, confirmation: {type: "redirect", return_url}, description, metadata}` → the
  payment, `pending`, with `confirmation.confirmation_url`: the hosted page where the payer pays.
  The same key with the same body returns the same payment for 24 hours; the same key with another
  body is a 400.
- `GET /v3/payments/{id}` → the payment: `pending` → `succeeded` (or `waiting_for_capture` when
  `capture` was false) or `canceled` with `cancellation_details {party, reason}`. A payment not paid
  in time is canceled with reason `expired_on_confirmation`.
- `GET /v3/payments?created_at.gte=…&limit=100&cursor=…` → `{type: "list", items, next_cursor}`,
  newest first. Metadata cannot be filtered on, so the adapter pages and matches itself.
- `POST /v3/refunds` with an `Idempotence-Key` and `{payment_id, amount, description}` → the refund,
  usually `succeeded` at once; it may stay `pending` for a while or end `canceled`.
- `GET /v3/refunds/{id}` and `GET /v3/refunds?payment_id=…` (paged like payments).

Errors are `{"type": "error", "id", "code", "description", "parameter"}`: 400 `invalid_request`,
401 `invalid_credentials`, 403 `forbidden`, 404 `not_found`, 429 `too_many_requests` (nothing
changed), 500 `internal_server_error` (the outcome is unknown: repeat with the same key).

Webhooks are POSTs of `{"type": "notification", "event": "payment.succeeded", "object": {…}}`
(also `payment.canceled`, `payment.waiting_for_capture`, `refund.succeeded`), redelivered until
the receiver answers 200. They are not signed: billy re-reads the object before trusting it.
"""

from django.conf import settings

from .port import PaymentProvider, ShopCredentials


def get_payment_provider(credentials: ShopCredentials) -> PaymentProvider:
    """The YooKassa adapter for one shop, with settings.YOOKASSA_CONNECT_TIMEOUT and YOOKASSA_TIMEOUT."""
    from .client import YooKassaClient

    return YooKassaClient(
        credentials,
        connect_timeout=settings.YOOKASSA_CONNECT_TIMEOUT,
        timeout=settings.YOOKASSA_TIMEOUT,
    )
