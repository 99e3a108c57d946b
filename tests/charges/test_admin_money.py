"""The admin over money: read-only history, and actions that call the same operations as the API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billy.charges import operations as charges
from billy.charges.models import Charge
from billy.ledger.models import Account, Adjustment, Entry
from tests.charges.conftest import fund, make_client
from tests.conftest import NOW


@pytest.fixture
def admin(transactional_db, admin_client):
    return admin_client


def charge(client, charge_id, amount=10_00):
    return charges.post_charge(
        client=client, request=charges.ChargeRequest(charge_id=charge_id, product="p", amount=amount), now=NOW
    )[0]


def test_adjust_action_posts_a_correction_with_its_reason(admin, client_a):
    wallet_id = fund(client_a, 10_00) or Account.objects.get(client=client_a).pk

    admin.post(
        "/admin/ledger/account/",
        {
            "action": "adjust",
            "_selected_action": [wallet_id],
            "apply": "1",
            "adjustment_id": "adm-1",
            "amount": "-4.50",
            "reason": "duplicate payment",
        },
    )

    assert Account.objects.get(pk=wallet_id).balance == 5_50
    adjustment = Adjustment.objects.get(adjustment_id="adm-1")
    assert (adjustment.reason, adjustment.created_by) == ("duplicate payment", "admin admin")


def test_adjust_action_refuses_going_below_zero(admin, client_a):
    fund(client_a, 1_00)
    wallet = Account.objects.get(client=client_a)

    response = admin.post(
        "/admin/ledger/account/",
        {
            "action": "adjust",
            "_selected_action": [wallet.pk],
            "apply": "1",
            "adjustment_id": "x",
            "amount": "-2.00",
            "reason": "r",
        },
        follow=True,
    )

    assert "Nothing done" in response.content.decode()
    assert Account.objects.get(pk=wallet.pk).balance == 1_00


def test_refund_action_refunds_through_the_operation(admin, client_a):
    fund(client_a, 100_00)
    ch = charge(client_a, "adm-ch")

    admin.post(
        "/admin/charges/charge/",
        {
            "action": "refund",
            "_selected_action": [ch.pk],
            "apply": "1",
            "refund_id": "adm-r",
            "amount": "4.00",
            "reason": "complaint",
        },
    )

    assert Charge.objects.get(pk=ch.pk).refunded == 4_00
    assert Account.objects.get(client=client_a).balance == 94_00


def test_charge_filters_and_constant_queries(admin, workspace, client_a):
    fund(client_a, 1_000_00)
    charge(client_a, "c-0")
    with CaptureQueriesContext(connection) as few:
        assert admin.get("/admin/charges/charge/").status_code == 200
    for i in range(1, 30):
        charge(client_a, f"c-{i}", 1_00)
    with CaptureQueriesContext(connection) as many:
        page = admin.get("/admin/charges/charge/", {"status__exact": "COMPLETED"})
    assert page.status_code == 200
    assert len(many) == len(few)
    assert "c-29" in page.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/ledger/account/",
        "/admin/ledger/ledgertransaction/",
        "/admin/ledger/entry/",
        "/admin/ledger/adjustment/",
        "/admin/charges/refund/",
    ],
)
def test_money_pages_render(admin, workspace, client_a, path):
    fund(client_a, 10_00)
    make_client(workspace, "other")
    assert admin.get(path).status_code == 200


def test_entries_cannot_be_edited_or_deleted_in_the_admin(admin, client_a):
    fund(client_a, 10_00)
    entry = Entry.objects.first()

    assert admin.post(f"/admin/ledger/entry/{entry.pk}/change/", {"amount": "1"}).status_code == 403
    assert admin.post(f"/admin/ledger/entry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Entry.objects.get(pk=entry.pk).amount == entry.amount
