"""The acts Balance forms at each month's end, fetched with GetClientActs and kept append-only,
with the credit invoices of postpay contracts (money in keeps those: `refresh.sync_invoices`).

A daily job fetches the current and the previous month for every bound client; `billy reconcile`
fetches the month it reconciles first. Balance dates an act the last day of the month it covers,
so a month's acts are those dated within it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable

from django.db import connection

from billy.core.errors import BillyError
from billy.integrations.balance.port import Balance, BalanceError
from billy.moneyin.refresh import sync_invoices
from billy.payers.models import Contract
from billy.payers.upstream import translate
from billy.workspaces.models import Workspace

from .models import Act, OrderReport
from .months import next_month

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Fetched:
    clients: int = 0
    acts: int = 0  # acts billy did not have before
    failed: int = 0  # clients Balance did not answer for


def fetch_client_acts(
    *, contract: Contract, date_from: dt.date, date_to: dt.date, balance: Balance, now: dt.datetime
) -> int:
    """The acts of the contract's client dated in [date_from, date_to) and, for a postpay contract,
    its credit invoices; returns how many acts are new. Raises UpstreamUnavailable / UpstreamError."""
    client = contract.client
    try:
        found = balance.get_client_acts(
            client_id=client.balance_client_id,
            contract_id=contract.balance_contract_id,
            date_from=date_from,
            date_to=date_to,
        )
        if contract.payment_type == Contract.PaymentType.POSTPAY:
            sync_invoices(contract, balance=balance, now=now)
    except BalanceError as e:
        raise translate(e, "fetching acts") from e
    known = set(
        Act.objects.filter(balance_act_id__in=[a.act_id for a in found]).values_list("balance_act_id", flat=True)
    )
    Act.objects.bulk_create(
        [
            Act(
                workspace_id=client.workspace_id,
                client=client,
                balance_act_id=act.act_id,
                number=act.external_id,
                act_date=act.act_date,
                amount=act.amount,
                vat=act.vat,
                currency=act.currency,
                balance_contract_id=act.contract_id,
                order_id=act.order_id,
                fetched_at=now,
            )
            for act in found
        ],
        ignore_conflicts=True,  # append-only: an act fetched again is the row billy has
    )
    return len({a.act_id for a in found} - known)


def bound_contracts(*, workspace: Workspace | None = None):
    """Active contracts (their wallets bound to wallet orders), with their clients."""
    contracts = Contract.objects.filter(status=Contract.Status.ACTIVE).select_related("client").order_by("id")
    return contracts.filter(workspace=workspace) if workspace is not None else contracts


def fetch_acts(
    *,
    month: dt.date,
    balance: Balance,
    now: dt.datetime,
    workspace: Workspace | None = None,
    months: int = 1,
    progress: Callable[[int], None] | None = None,
    until: float | None = None,
) -> Fetched:
    """Every bound client's acts of `months` months from `month`; a client Balance does not answer
    for is counted in `failed` and left for the next run. Stops taking clients after `until` (a
    time.monotonic() deadline), leaving the rest to the next run."""
    date_to = month
    for _ in range(months):
        date_to = next_month(date_to)
    result = Fetched()
    for contract in bound_contracts(workspace=workspace).iterator(chunk_size=500):
        if until is not None and time.monotonic() > until:
            break
        try:
            result.acts += fetch_client_acts(
                contract=contract, date_from=month, date_to=date_to, balance=balance, now=now
            )
            result.clients += 1
        except BillyError:  # one client's failure does not stop the others
            result.failed += 1
        if progress is not None:
            progress(1)
    return result


@dataclasses.dataclass
class Read:
    orders: int = 0  # orders whose Balance total was read
    failed: int = 0  # orders in batches Balance did not answer for (their totals stay as last read)
    error: str = ""  # the last of those errors


def read_balance_totals(*, workspace: Workspace, balance: Balance, now: dt.datetime, batch: int = 500) -> Read:
    """What Balance shows consumed on each of the workspace's wallet orders (GetOrdersInfo, in
    batches), kept on the orders for reconciliation. A batch Balance does not answer for is counted
    and its error kept; the other batches are read."""
    order_ids = list(OrderReport.objects.filter(workspace=workspace).order_by("id").values_list("order_id", flat=True))
    result = Read()
    for start in range(0, len(order_ids), batch):
        wanted = order_ids[start : start + batch]
        try:
            infos = balance.get_orders_info(wanted)
        except BalanceError as e:
            result.failed += len(wanted)
            result.error = f"{type(e).__name__}: {e}"
            logger.warning("%s: Balance's totals of %s orders not read: %s", workspace.name, len(wanted), result.error)
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE consumption_order o SET balance_total = i.total, balance_read_at = %s"
                "  FROM unnest(%s::bigint[], %s::bigint[]) AS i(order_id, total) WHERE o.order_id = i.order_id",
                [now, [i.order_id for i in infos], [i.consumed_total for i in infos]],
            )
        result.orders += len(infos)
    return result
