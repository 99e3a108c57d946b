"""Background jobs for payers and contracts."""

from procrastinate.contrib.django import app

from billy.core import clock
from billy.core.tasks import CappedBackoff, db_task
from billy.integrations.balance import get_balance
from billy.integrations.balance.port import BalanceCode, BalanceFault

from . import contracts


def _not_a_refusal(error: BaseException) -> bool:
    """Retry while the account opens and while Balance is unreachable; other faults wait for an operator."""
    return not isinstance(error, BalanceFault) or error.code == BalanceCode.PERSONAL_ACCOUNT_NOT_READY


@app.task(
    name="billy.payers.bind_personal_account",
    queue="balance",
    retry=CappedBackoff(base=2, cap=30, only_when=_not_a_refusal),
)
@db_task
def bind_personal_account_task(contract_pk: int) -> bool:
    return contracts.bind_personal_account(contract_pk=contract_pk, balance=get_balance(), now=clock.now())
