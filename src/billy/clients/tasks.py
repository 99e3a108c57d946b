"""Background jobs for clients."""

from procrastinate.contrib.django import app

from billy.core import clock
from billy.core.tasks import CappedBackoff, db_task
from billy.integrations.balance import get_balance
from billy.integrations.balance.port import BalanceFault

from . import operations


@app.task(
    name="billy.clients.link_client_configuration",
    queue="balance",
    # Retried with capped backoff until done; a Balance fault (e.g. an unknown configuration)
    # fails at once and waits in the admin for an operator.
    retry=CappedBackoff(cap=300, give_up_on=(BalanceFault,)),
)
@db_task
def link_client_configuration_task(client_id: int) -> bool:
    return operations.link_client_configuration(client_id=client_id, balance=get_balance(), now=clock.now())
