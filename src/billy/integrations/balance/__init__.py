"""Balance, the upstream billing system, over XML-RPC: the protocol billy speaks, and where it lives.

- `port`: what billy needs from Balance, as frozen dataclasses (money in kopecks, aware UTC times)
  and the `Balance` Protocol; its errors say what is known about a call's effect.
- `wire`: the spellings: decimal-string money, `dateTime.iso8601` in UTC, CamelCase structs,
  lower-case choices, the fault string `<error><code>CODE</code><msg>text</msg></error>`.
- `client`: the adapter (namespace `Balance2`): clients (`CreateClient`, `FindClient`,
  `LinkIntegrationToClient`), payers (`CreatePerson`, `GetClientPersons`), contracts
  (`CreateOffer`, `UpdateContract`, `GetClientContracts`, `GetPersonalAccount`), money in
  (`CreateRequest`, `CreateInvoice`, `GetClientInvoices`, `DepositFromCredit`,
  `GetClientCreditLimits`), consumption and acts (`UpdateCampaigns`, `GetOrdersInfo`,
  `GetClientActs`). Write methods take the operator uid first; success is `[0, "SUCCESS", payload]`.
- `notification`: Balance calling billy, `BalanceClient.NotifyOrder`, parsed from its request body,
  and the answers (`[0, "SUCCESS"]`, or a fault to be called again).
- `emulator`: all of the above, served on loopback for `billy dev` and the tests.

A fault means nothing changed, except `INTERNAL_ERROR`, whose outcome is unknown. No create call
has an idempotency key (`ExternalRef`, where a method takes one, is stored and read back, but real
Balance may not offer it): a call whose outcome is unknown may have created something, so it is
resolved by reading back and matching on the business fields, adopting exactly one match:

    CreateClient       → FindClient (name, email, phone)
    CreatePerson       → GetClientPersons
    CreateOffer        → GetClientContracts
    CreateInvoice      → GetClientInvoices
    DepositFromCredit  → GetPersonalAccount's CreditUsed
    CreateRequest      → none: a request moves no money, so the next attempt makes a new one

Safe to repeat blindly: every read, `UpdateCampaigns` (cumulative totals), answering a notification.
After a contract is accepted Balance opens its personal account and wallet order, which may take a
moment (`GetPersonalAccount` answers `PERSONAL_ACCOUNT_NOT_READY` until then).
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
