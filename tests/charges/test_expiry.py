"""Holds past their TTL are cancelled by the periodic job; fresh holds are left alone."""

import datetime as dt

import psycopg
from django.db import connection

from billy.charges import operations as charges
from billy.charges.models import Charge
from billy.charges.tasks import expire_holds_task
from billy.core.tasks import JANITOR_LOCK
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


def test_a_run_stands_down_while_the_previous_run_is_at_work_and_goes_on_when_its_worker_dies(client_a):
    fund(client_a, 100_000_00)
    for i in range(3):
        hold(client_a, f"h-{i}", ttl=60, now=NOW)
    previous_run = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    previous_run.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [JANITOR_LOCK, "billy.charges.expire_holds"])

    assert expire_holds_task(timestamp=0) is None

    assert Account.objects.get(client=client_a).held == 30_00
    previous_run.close()  # its worker died: PostgreSQL frees the lock
    assert expire_holds_task(timestamp=0) == 3


def test_a_run_takes_no_new_work_past_its_time(client_a, settings):
    fund(client_a, 100_000_00)
    hold(client_a, "h", ttl=60, now=NOW)
    settings.BILLY_JANITOR_RUN_SECONDS = 0

    assert expire_holds_task(timestamp=0) == 0

    assert Account.objects.get(client=client_a).held == 10_00
