"""The admin's Relay cursors page: per stream and workspace, what is not published yet and how old
the oldest of it is, in one query however many rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_workspace, wait_for
from tests.relay.conftest import write_events
from tests.relay.test_publishing import relay_until_done


@pytest.fixture
def admin(transactional_db, admin_client):
    return admin_client


def test_the_page_shows_each_cursor_with_what_it_has_left_to_publish(admin, workspace, broker, target):
    realty = make_workspace("realty", balance_service_id=81)
    write_events(workspace.pk, 40)
    relay_until_done(broker, target, 40)
    write_events(workspace.pk, 7)

    def page_showing(*parts: str, up_to_date: int = 0) -> str | None:
        """The page once it shows `parts` (any transaction of the cluster holds the feed's horizon
        back, so events just written may stay out of the page for a moment)."""
        page = admin.get("/admin/relay/relaycursor/").content.decode()
        return page if all(p in page for p in parts) and page.count("none: up to date") == up_to_date else None

    page = wait_for(lambda: page_showing('<td class="field-behind">7</td>'), timeout=120)
    with CaptureQueriesContext(connection) as queries:
        admin.get("/admin/relay/relaycursor/")
    write_events(realty.pk, 3)
    relay_until_done(broker, target, 50)
    later = wait_for(lambda: page_showing(up_to_date=2), timeout=120)
    with CaptureQueriesContext(connection) as more:
        admin.get("/admin/relay/relaycursor/")

    assert "written " in page and " s ago" in page
    assert '<td class="field-published_count">40</td>' in page
    assert "Events acknowledged" in page  # repeats included: not "published to the stream"
    assert later.count("none: up to date") == 2
    assert len(more) == len(queries)
