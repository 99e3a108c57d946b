"""Balance's errors as billy's, for payers, contracts and money in (one translation, as for clients)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from billy.core.errors import BillyError, InvalidState, UpstreamError, UpstreamRejected, UpstreamUnavailable
from billy.integrations.balance.port import BalanceError, BalanceFault, BalanceOutcomeUnknown, BalanceUnavailable

# Faults that say the data was refused (the caller can fix it), not that Balance is in trouble.
_REFUSALS = frozenset({"INVALID_PARAM", "PERSON_NOT_FOUND", "CONTRACT_SUSPENDED", "CONTRACT_NOT_POSTPAY"})


def translate(error: BalanceError, action: str) -> BillyError:
    """The billy error for a Balance error met while doing `action` ("creating the payer")."""
    retry_after = settings.BILLY_RETRY_AFTER_SECONDS
    if isinstance(error, BalanceUnavailable | BalanceOutcomeUnknown):
        return UpstreamUnavailable(f"Balance is unavailable ({action}); retry later.", retry_after=retry_after)
    if isinstance(error, BalanceFault) and error.code in _REFUSALS:
        return UpstreamRejected(f"Balance refused ({action}): {error.message}", details={"balance_code": error.code})
    code = error.code if isinstance(error, BalanceFault) else type(error).__name__
    return UpstreamError(
        f"Balance answered with an error ({action}).", details={"balance_code": code}, retry_after=retry_after
    )


def require_autocommit(what: str) -> None:
    """Write-first work commits step by step: it must not run inside a caller's transaction."""
    if connection.in_atomic_block:
        raise RuntimeError(f"{what} commits step by step; call it outside transaction.atomic()")


def require_registered(client) -> None:
    """The client is known to Balance; InvalidState otherwise."""
    if client.balance_client_id is None or client.status != client.Status.ACTIVE:
        raise InvalidState(
            "The client is not registered in Balance yet; repeat PUT of the client first.",
            details={"status": client.status},
        )
