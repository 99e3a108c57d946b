"""The operators' admin: API keys shown once, clients searchable, NEEDS_ATTENTION resolvable."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billy.clients.models import Client
from billy.workspaces.models import ApiKey
from billy.workspaces.operations import hash_api_key
from billy.workspaces.queries import authenticate_api_key
from tests.conftest import NOW, make_workspace


@pytest.fixture
def admin(transactional_db, admin_client):
    return admin_client


def add_clients(workspace, count, start=0, **fields):
    Client.objects.bulk_create(
        Client(
            workspace=workspace,
            service_client_id=f"client-{i}",
            balance_client_id=1000 + i,
            name=f"Client {i}",
            email=f"c{i}@example.ru",
            phone="+74951234567",
            status=Client.Status.ACTIVE,
            created_at=NOW,
            updated_at=NOW,
            **fields,
        )
        for i in range(start, start + count)
    )


def test_api_key_created_in_the_admin_is_shown_once_and_stored_hashed(admin):
    workspace = make_workspace("autoru")

    response = admin.post(
        "/admin/workspaces/apikey/add/", {"name": "cabinet", "role": "SERVICE", "workspaces": [workspace.pk]}
    )

    assert response.status_code == 200
    secret = re.search(r'id="issued-api-key"[^>]*value="([^"]+)"', response.content.decode()).group(1)
    api_key = ApiKey.objects.get()
    assert api_key.key_hash == hash_api_key(secret)
    assert authenticate_api_key(secret).name == "cabinet"
    assert [w.name for w in api_key.workspaces.all()] == ["autoru"]
    assert secret not in admin.get(f"/admin/workspaces/apikey/{api_key.pk}/change/").content.decode()


def test_api_key_page_is_read_only_without_a_save_button(admin):
    workspace = make_workspace("autoru")
    admin.post("/admin/workspaces/apikey/add/", {"name": "k", "role": "SERVICE", "workspaces": [workspace.pk]})
    api_key = ApiKey.objects.get()

    page = admin.get(f"/admin/workspaces/apikey/{api_key.pk}/change/").content.decode()

    assert 'name="_save"' not in page
    assert admin.post(f"/admin/workspaces/apikey/{api_key.pk}/change/", {"name": "renamed"}).status_code == 403
    assert ApiKey.objects.get().name == "k"


def test_revoke_action(admin):
    workspace = make_workspace("autoru")
    admin.post("/admin/workspaces/apikey/add/", {"name": "k", "role": "SERVICE", "workspaces": [workspace.pk]})
    api_key = ApiKey.objects.get()

    admin.post("/admin/workspaces/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


@pytest.mark.parametrize("term", ["client-7", "Client 7", "1007"])
def test_clients_are_found_by_service_id_name_and_balance_id(admin, term):
    add_clients(make_workspace("c2b"), 12)

    page = admin.get("/admin/clients/client/", {"q": term}).content.decode()

    assert "client-7" in page
    assert "client-3" not in page


def test_client_list_query_count_does_not_grow_with_rows(admin):
    workspace = make_workspace("c2b")
    add_clients(workspace, 3)
    with CaptureQueriesContext(connection) as few:
        assert admin.get("/admin/clients/client/").status_code == 200
    add_clients(workspace, 60, start=3)
    with CaptureQueriesContext(connection) as many:
        assert admin.get("/admin/clients/client/").status_code == 200
    assert len(many) == len(few)


def test_needs_attention_filter_and_create_anyway_action(admin, balance, balance_control):
    workspace = make_workspace("c2b")
    add_clients(workspace, 2)
    Client.objects.filter(service_client_id="client-1").update(
        status=Client.Status.NEEDS_ATTENTION, balance_client_id=None, attention_reason="ambiguous"
    )
    stuck = Client.objects.get(service_client_id="client-1")

    listed = admin.get("/admin/clients/client/", {"status__exact": "NEEDS_ATTENTION"}).content.decode()
    assert "client-1" in listed and "client-0" not in listed

    admin.post(
        "/admin/clients/client/", {"action": "create_in_balance_anyway", "_selected_action": [stuck.pk]}, follow=True
    )

    stuck.refresh_from_db()
    assert stuck.status == Client.Status.ACTIVE
    assert balance_control.clients()[0]["CLIENT_ID"] == stuck.balance_client_id


def test_client_balance_id_is_read_only(admin):
    add_clients(make_workspace("c2b"), 1)
    client = Client.objects.get()

    page = admin.get(f"/admin/clients/client/{client.pk}/change/").content.decode()

    assert 'name="balance_client_id"' not in page
    assert "1000" in page


def test_workspaces_page_lists_workspaces(admin):
    make_workspace("realty_commercial")
    assert "realty_commercial" in admin.get("/admin/workspaces/workspace/").content.decode()
