"""Balance, the upstream billing system, over XML-RPC.

The methods billy uses (namespace `Balance2`), as the adapter speaks them:

- `CreateClient(operator_uid, {CLIENT_ID?, NAME, EMAIL, PHONE})` → `[0, "SUCCESS", client_id]`.
  Without CLIENT_ID it creates a client; with it, it updates that client. It has no idempotency
  key: a call that timed out may have created a client.
- `FindClient({Name?, Email?, Phone?, ClientID?})` → `[0, "SUCCESS", [{CLIENT_ID, NAME, EMAIL, PHONE}]]`,
  every given field matching exactly.
- `LinkIntegrationToClient(operator_uid, {ClientID, IntegrationCC, ConfigurationCC})` →
  `[0, "SUCCESS"]`; linking an already linked client again is harmless.

Errors are XML-RPC faults whose string is `<error><code>CODE</code><msg>text</msg></error>`
(e.g. `INVALID_PARAM`, `CLIENT_NOT_FOUND`); a fault means nothing changed.
"""

from django.conf import settings

from .port import Balance


def get_balance() -> Balance:
    """The configured Balance adapter (settings.BALANCE_URL and its timeouts)."""
    from .client import XmlRpcBalance

    return XmlRpcBalance(
        url=settings.BALANCE_URL,
        operator_uid=settings.BALANCE_OPERATOR_UID,
        connect_timeout=settings.BALANCE_CONNECT_TIMEOUT,
        timeout=settings.BALANCE_TIMEOUT,
    )
