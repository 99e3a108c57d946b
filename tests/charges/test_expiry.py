"""Holds past their TTL are cancelled by the periodic job; fresh holds are left alone."""

import datetime as dt

from billy.charges import operations as charges
from billy.charges.models import Charge
from billy.charges.tasks import expire_holds_task
from billy.events.models import Event
from billy.ledger.models import Account
from tests.charges.conftest import fund
from tests.conftest import NOW


def hold(client, charge_id, ttl, now):
    request = charges.ChargeRequest(charge_id=charge_id, product="p", amount=10_00, hold=True, hold_ttl_seconds=ttl)
    return charges.post_charge(client=client, request=request, now=now)[0]


def test_expired_holds_are_cancelled_and_release_the_money(client_a):
    fund(client_a, 100_00)
    hold(client_a, "old", ttl=60, now=NOW)
    hold(client_a, "fresh", ttl=3600, now=NOW)

    assert charges.expire_holds(now=NOW + dt.timedelta(seconds=61)) == 1

    statuses = dict(Charge.objects.values_list("charge_id", "status"))
    assert statuses == {"old": "CANCELLED", "fresh": "HELD"}
    assert Charge.objects.get(charge_id="old").cancel_reason == "EXPIRED"
    assert Account.objects.get(client=client_a).held == 10_00
    assert Event.objects.filter(type="charge.cancelled", data__reason="EXPIRED").count() == 1


def test_the_periodic_job_catches_up_on_many_expired_holds(client_a):
    fund(client_a, 100_000_00)
    for i in range(3):
        hold(client_a, f"h-{i}", ttl=60, now=NOW)

    assert expire_holds_task(timestamp=0) == 3  # the clock is past NOW + 60 s

    assert Account.objects.get(client=client_a).held == 0
