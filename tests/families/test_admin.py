"""The families admin: read-only pages that show limits and usage as decimals, a fixed number of
queries however many families and spendings there are, and actions that call the operations."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billy.core import clock
from billy.families import spending
from billy.families.models import Spending
from tests.families.conftest import make_family


@pytest.fixture
def operator(admin_client, transactional_db):
    return admin_client


@pytest.fixture
def demo(taxi, cards):
    return make_family(taxi, cards, members=[("kid", "1000.00"), ("partner", None)])


def spend(taxi, demo, spending_id: str, amount: int = 30000):
    return spending.spend(
        workspace=taxi,
        family_id=demo.family.family_id,
        request=spending.SpendRequest(spending_id=spending_id, user_id="kid", amount=amount),
        now=clock.now(),
    )[0]


def count(operator, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert operator.get(url).status_code == 200
    return len(queries)


def test_the_family_page_shows_each_members_limit_and_usage_this_month(operator, taxi, demo):
    spend(taxi, demo, "ride-1")

    page = operator.get(f"/admin/families/family/{demo.family.pk}/change/").content.decode()

    assert "<td>kid</td><td>member</td><td>1000.00 RUB</td><td>300.00 RUB</td><td>700.00 RUB</td>" in page
    assert "<td>partner</td><td>member</td><td>unlimited</td><td>0.00 RUB</td>" in page
    assert 'name="_save"' not in page


def test_the_spending_page_shows_money_as_decimals(operator, taxi, demo):
    held = spend(taxi, demo, "ride-1")

    page = operator.get(f"/admin/families/spending/{held.pk}/change/").content.decode()

    assert "300.00 RUB" in page
    assert demo.family.family_id in page


@pytest.mark.parametrize("url", ["/admin/families/family/", "/admin/families/spending/"])
def test_list_pages_read_a_fixed_number_of_queries(operator, taxi, demo, cards, url):
    spend(taxi, demo, "ride-1")
    count(operator, url)
    few = count(operator, url)
    for i in range(5):
        more = make_family(taxi, cards, owner=f"more-owner-{i}", members=[(f"kid-{i}", None)])
        spending.spend(
            workspace=taxi,
            family_id=more.family.family_id,
            request=spending.SpendRequest(spending_id=f"more-{i}", user_id=f"kid-{i}", amount=100),
            now=clock.now(),
        )

    assert count(operator, url) == few


def test_the_cancel_action_calls_the_operation(operator, taxi, demo, cards):
    held = spend(taxi, demo, "ride-1")

    operator.post("/admin/families/spending/", {"action": "cancel_spendings", "_selected_action": [str(held.pk)]})

    assert Spending.objects.get(pk=held.pk).status == Spending.Status.CANCELLED
    assert cards.payments()[0]["status"] == "CANCELLED"


def test_the_migration_page_shows_members_states_and_the_last_error_and_retries(operator, taxi, cards, identity):
    from billy.families.migration import migrate_family
    from billy.families.models import FamilyMigration
    from billy.integrations.cards import get_card_system
    from billy.integrations.identity import get_identity_provider
    from tests.families.migration_helpers import KID, OWNER, PARTNER, family_of_three, jobs, users

    users(identity, OWNER, PARTNER)
    users(identity, KID, portal=False)
    demo = family_of_three(taxi, cards)
    state = migrate_family(
        family_pk=demo.family.pk,
        identity=get_identity_provider(),
        cards=get_card_system(),
        now=clock.now(),
        source="BATCH",
    )
    assert state == "PARTIAL"
    row = FamilyMigration.objects.get(family=demo.family)
    FamilyMigration.objects.filter(pk=row.pk).update(last_error="IdentityUnavailable: HTTP 503")

    page = operator.get(f"/admin/families/familymigration/{row.pk}/change/").content.decode()
    assert "needs a portal account" in page and "no_portal_account" in page
    assert "IdentityUnavailable: HTTP 503" in page and "partial" in page
    listing = operator.get("/admin/families/family/").content.decode()
    assert "partial" in listing

    answer = operator.post(
        "/admin/families/familymigration/", {"action": "retry", "_selected_action": [row.pk]}, follow=True
    )
    assert "1 migration(s) queued" in answer.content.decode()
    assert len(jobs("billy.families.migrate_family")) == 1
