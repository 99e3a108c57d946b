"""The admin's Relay cursors page: per stream and workspace, what is not published yet and how old
the oldest of it is, in one query however many rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billy.relay.publishing import positions_with_work
from tests.conftest import make_workspace, wait_for
from tests.relay.conftest import write_events
from tests.relay.test_publishing import relay_until_done


@pytest.fixture
def admin(transactional_db, admin_client):
    return admin_client


def test_the_page_shows_each_cursor_with_what_it_has_left_to_publish(admin, workspace, broker, target):
    realty = make_workspace("realty", balance_service_id=81)
    write_events(workspace.pk, 40)
    relay_until_done(broker, target)
    write_events(workspace.pk, 7)
    wait_for(lambda: positions_with_work(stream=target.stream))

    page = admin.get("/admin/relay/relaycursor/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        admin.get("/admin/relay/relaycursor/")
    write_events(realty.pk, 3)
    relay_until_done(broker, target)
    with CaptureQueriesContext(connection) as more:
        later = admin.get("/admin/relay/relaycursor/").content.decode()

    assert '<td class="field-behind">7</td>' in page
    assert "written " in page and " s ago" in page
    assert '<td class="field-published_count">40</td>' in page
    assert "Events acknowledged" in page  # repeats included: not "published to the stream"
    assert later.count("none: up to date") == 2
    assert len(more) == len(queries)
