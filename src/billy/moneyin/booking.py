"""The one path that books money from Balance onto a wallet.

Balance reports a wallet order's cumulative PaidTotal and CreditTotal. billy keeps, on the
contract row, the totals it has booked; under that row's lock it posts the increase (paid money as
a TOP_UP, credit money as a CREDIT, through the ledger) and moves its booked totals in the same
transaction. Totals that did not rise book nothing, so however often, late or out of order the
order is read, each kopeck is booked once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from billy.integrations.balance.port import OrderInfo
from billy.ledger.topups import TopUp, book_top_up
from billy.payers.models import Contract


@dataclass(frozen=True)
class Booked:
    paid: int
    credit: int

    @property
    def total(self) -> int:
        return self.paid + self.credit


def book_order(*, contract_pk: int, info: OrderInfo, now: dt.datetime) -> Booked:
    """Book the increase of the order's totals over what was booked; what was booked now."""
    with transaction.atomic():
        # Only the contract row, and FOR NO KEY UPDATE: rows that point at it or at the client (a
        # charge, a credit transfer: their foreign key checks) never wait for, or deadlock with, a booking.
        contract = (
            Contract.objects.select_for_update(no_key=True, of=("self",))
            .select_related("client__workspace")
            .get(pk=contract_pk)
        )
        if contract.wallet_order_id != info.order_id or contract.status != Contract.Status.ACTIVE:
            raise ValueError(f"order {info.order_id} is not the bound wallet order of contract {contract_pk}")
        booked = Booked(
            paid=max(0, info.paid_total - contract.booked_paid),
            credit=max(0, info.credit_total - contract.booked_credit),
        )
        if booked.total:
            book_top_up(
                client=contract.client,
                top_up=TopUp(
                    wallet_order_id=info.order_id,
                    contract_id=contract.contract_id,
                    paid=booked.paid,
                    credit=booked.credit,
                ),
                now=now,
            )
            Contract.objects.filter(pk=contract_pk).update(
                booked_paid=F("booked_paid") + booked.paid,
                booked_credit=F("booked_credit") + booked.credit,
                last_booked_at=now,
                updated_at=now,
            )
        return booked
