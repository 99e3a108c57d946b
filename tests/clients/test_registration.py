"""register_client against the Balance emulator over loopback, on real PostgreSQL with real commits."""

import datetime as dt

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from billy.clients import operations
from billy.clients.models import Client
from billy.core.errors import UpstreamError, UpstreamRejected, UpstreamUnavailable, ValidationFailed
from billy.integrations.balance.port import ClientData
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS, NOW, TEST_BALANCE_TIMEOUT, wait_for

HORIZON = 60  # BALANCE_CALL_HORIZON_SECONDS' default

FIELDS = {"name": "ООО Ромашка", "email": "info@romashka.ru", "phone": "8 (495) 123-45-67"}


def register(workspace, balance, service_client_id="client-1", now=NOW, **fields):
    return operations.register_client(
        workspace=workspace,
        service_client_id=service_client_id,
        balance=balance,
        now=now,
        **{**FIELDS, **fields},
    )


def create_calls(control, outcome="ok"):
    return [c for c in control.calls("CreateClient") if c["outcome"] == outcome]


def test_new_client_is_created_in_balance_and_linked(workspace, balance, balance_control):
    registration = register(workspace, balance)

    assert registration.created
    client = Client.objects.get()
    assert (client.status, client.phone) == (Client.Status.ACTIVE, "+74951234567")
    assert balance_control.clients() == [
        {
            "CLIENT_ID": client.balance_client_id,
            "NAME": "ООО Ромашка",
            "EMAIL": "info@romashka.ru",
            "PHONE": "+74951234567",
            "links": [{"integration": "c2b", "configuration": "c2b_default"}],
        }
    ]
    assert client.configuration_linked_at == NOW


def test_update_keeps_the_balance_id_and_updates_balance(workspace, balance, balance_control):
    first = register(workspace, balance).client
    later = NOW + dt.timedelta(hours=1)

    registration = register(workspace, balance, now=later, name="Ромашка", email="new@romashka.ru")

    assert not registration.created
    client = Client.objects.get()
    assert client.balance_client_id == first.balance_client_id
    assert (client.name, client.email, client.updated_at) == ("Ромашка", "new@romashka.ru", later)
    (in_balance,) = balance_control.clients()
    assert (in_balance["NAME"], in_balance["EMAIL"]) == ("Ромашка", "new@romashka.ru")
    assert len(create_calls(balance_control)) == 2


def test_identical_repeat_calls_nothing_and_changes_nothing(workspace, balance, balance_control):
    register(workspace, balance)
    calls_before = len(balance_control.calls())

    registration = register(workspace, balance, now=NOW + dt.timedelta(days=1))

    assert not registration.created
    assert len(balance_control.calls()) == calls_before
    assert Client.objects.get().updated_at == NOW


def test_invalid_fields_store_nothing_and_call_nothing(workspace, balance, balance_control):
    with pytest.raises(ValidationFailed) as error:
        register(workspace, balance, email="nope", phone="1")

    assert set(error.value.fields) == {"email", "phone"}
    assert not Client.objects.exists()
    assert balance_control.calls() == []


def test_outage_then_retry_creates_exactly_one_client(workspace, balance, balance_control):
    balance_control.inject("unavailable", count=1)

    with pytest.raises(UpstreamUnavailable) as error:
        register(workspace, balance)

    assert error.value.retry_after is not None
    pending = Client.objects.get()
    assert (pending.status, pending.balance_call_started_at) == (Client.Status.PENDING, None)

    assert register(workspace, balance).created
    assert len(create_calls(balance_control)) == 1
    assert len(balance_control.clients()) == 1
    assert balance_control.calls("FindClient") == []  # the outcome was known: no lookup needed


def test_commit_then_timeout_is_adopted_not_duplicated(workspace, balance, balance_control):
    balance_control.inject("commit_then_timeout", seconds=COMMIT_THEN_TIMEOUT_SECONDS)

    with pytest.raises(UpstreamUnavailable):
        register(workspace, balance)

    assert Client.objects.get().balance_call_started_at == NOW
    registration = register(workspace, balance)

    assert registration.created
    (in_balance,) = balance_control.clients()
    assert registration.client.balance_client_id == in_balance["CLIENT_ID"]
    assert len(balance_control.calls("CreateClient")) == 1
    assert len(balance_control.calls("FindClient")) == 1


def test_unknown_outcome_with_no_match_is_retried_once_the_call_is_surely_over(workspace, balance, balance_control):
    balance_control.inject("error", count=1)  # a 500: maybe done, here not
    with pytest.raises(UpstreamUnavailable):
        register(workspace, balance)

    # Balance may still be carrying the call out: no match yet proves nothing.
    with pytest.raises(UpstreamUnavailable) as error:
        register(workspace, balance, now=NOW + dt.timedelta(seconds=HORIZON - 20))
    assert error.value.retry_after == 20
    assert Client.objects.get().balance_call_started_at == NOW
    assert len(balance_control.calls("CreateClient")) == 1

    registration = register(workspace, balance, now=NOW + dt.timedelta(seconds=HORIZON))

    assert registration.created
    (in_balance,) = balance_control.clients()
    assert registration.client.balance_client_id == in_balance["CLIENT_ID"]
    assert len(balance_control.calls("FindClient")) == 2


def test_a_create_balance_carries_out_late_is_adopted_not_duplicated(workspace, balance, balance_control):
    # Balance works on the call past billy's timeout, so the first read-back finds nothing.
    balance_control.inject("delay", seconds=TEST_BALANCE_TIMEOUT + 2)
    with pytest.raises(UpstreamUnavailable):
        register(workspace, balance)
    with pytest.raises(UpstreamUnavailable):
        register(workspace, balance, now=NOW + dt.timedelta(seconds=1))
    wait_for(lambda: len(balance_control.clients()) == 1)

    registration = register(workspace, balance, now=NOW + dt.timedelta(seconds=HORIZON))

    (in_balance,) = balance_control.clients()
    assert registration.client.balance_client_id == in_balance["CLIENT_ID"]
    assert len(balance_control.calls("CreateClient")) == 1


def test_unknown_outcome_with_two_matches_needs_attention(workspace, balance, balance_control):
    balance.create_client(ClientData(name="ООО Ромашка", email="info@romashka.ru", phone="+74951234567"))
    balance_control.inject("commit_then_timeout", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    with pytest.raises(UpstreamUnavailable):
        register(workspace, balance)

    with pytest.raises(operations.ClientNeedsAttention) as error:
        register(workspace, balance)

    client = Client.objects.get()
    assert client.status == Client.Status.NEEDS_ATTENTION
    assert "2 unclaimed clients" in client.attention_reason
    assert "2 unclaimed" in error.value.message
    assert len(balance_control.clients()) == 2


def test_a_balance_client_already_mapped_is_not_adopted_twice(workspace, balance, balance_control):
    first = register(workspace, balance, service_client_id="twin-1").client
    balance_control.inject("error", count=1)
    with pytest.raises(UpstreamUnavailable):
        register(workspace, balance, service_client_id="twin-2")

    twin = register(workspace, balance, service_client_id="twin-2", now=NOW + dt.timedelta(seconds=HORIZON)).client

    assert twin.balance_client_id != first.balance_client_id
    assert len(balance_control.clients()) == 2


def test_needs_attention_is_refused_until_an_operator_resolves_it(workspace, balance, balance_control):
    balance.create_client(ClientData(name="ООО Ромашка", email="info@romashka.ru", phone="+74951234567"))
    balance.create_client(ClientData(name="ООО Ромашка", email="info@romashka.ru", phone="+74951234567"))
    balance_control.inject("error", count=1)
    with pytest.raises(UpstreamUnavailable):
        register(workspace, balance)
    with pytest.raises(operations.ClientNeedsAttention):
        register(workspace, balance)
    with pytest.raises(operations.ClientNeedsAttention):
        register(workspace, balance, now=NOW + dt.timedelta(seconds=HORIZON))
    client = Client.objects.get()

    resolved = operations.create_client_in_balance_anyway(client_id=client.pk, balance=balance, now=NOW)

    assert resolved.status == Client.Status.ACTIVE
    assert len(balance_control.clients()) == 3
    assert not register(workspace, balance).created


def test_operator_recheck_adopts_a_single_match(workspace, balance, balance_control):
    balance.create_client(ClientData(name="ООО Ромашка", email="info@romashka.ru", phone="+74951234567"))
    extra = balance.create_client(ClientData(name="ООО Ромашка", email="info@romashka.ru", phone="+74951234567"))
    balance_control.inject("error", count=1)
    with pytest.raises(UpstreamUnavailable):
        register(workspace, balance)
    with pytest.raises(operations.ClientNeedsAttention):
        register(workspace, balance)
    client = Client.objects.get()
    # The operator merges the duplicate in Balance (the emulator's client is renamed away).
    balance.create_client(ClientData(name="merged", email="merged@romashka.ru", phone="+74951234560"), client_id=extra)

    adopted = operations.recheck_client_in_balance(client_id=client.pk, balance=balance, now=NOW)

    assert adopted.status == Client.Status.ACTIVE
    assert adopted.balance_client_id != extra


def test_balance_refusal_is_reported_and_the_next_attempt_creates(workspace, balance, balance_control):
    balance_control.inject("fault", count=1, code="TOO_MANY_OPERATIONS")
    with pytest.raises(UpstreamError):
        register(workspace, balance)
    assert register(workspace, balance).created
    assert len(balance_control.clients()) == 1


def test_balance_invalid_param_is_upstream_rejected(workspace, balance, balance_control, monkeypatch):
    # billy accepts what Balance refuses: a Balance rule billy does not know yet.
    monkeypatch.setattr("billy.integrations.balance.emulator.checks.EMAIL", __import__("re").compile(r"^never$"))
    with pytest.raises(UpstreamRejected) as error:
        register(workspace, balance)
    assert error.value.details == {"balance_code": "INVALID_PARAM"}
    assert Client.objects.get().balance_call_started_at is None


def test_failed_link_is_left_to_the_deferred_job(workspace, balance, balance_control):
    balance_control.inject("unavailable", count=1, method="LinkIntegrationToClient")

    registration = register(workspace, balance)

    assert registration.created
    client = Client.objects.get()
    assert client.configuration_linked_at is None
    job = ProcrastinateJob.objects.get(task_name="billy.clients.link_client_configuration")
    assert (job.args, job.status, job.queue_name) == ({"client_id": client.pk}, "todo", "balance")


def test_link_job_completes_the_link(workspace, balance, balance_control):
    balance_control.inject("unavailable", count=1, method="LinkIntegrationToClient")
    client = register(workspace, balance).client

    assert operations.link_client_configuration(client_id=client.pk, balance=balance, now=NOW)

    assert balance_control.clients()[0]["links"] == [{"integration": "c2b", "configuration": "c2b_default"}]
    assert not operations.link_client_configuration(client_id=client.pk, balance=balance, now=NOW)


def test_registration_refuses_to_run_inside_a_transaction(workspace, balance):
    from django.db import transaction

    with transaction.atomic(), pytest.raises(RuntimeError):
        register(workspace, balance)


def test_a_balance_client_of_another_workspace_is_never_adopted(workspace, balance, balance_control):
    from tests.conftest import make_workspace

    realty = make_workspace("realty")
    register(workspace, balance)  # the same person, already a c2b client
    balance_control.inject("error", count=1)
    with pytest.raises(UpstreamUnavailable):
        register(realty, balance)

    with pytest.raises(UpstreamUnavailable):
        register(realty, balance)
    assert Client.objects.get(workspace=realty).balance_client_id is None

    own = register(realty, balance, now=NOW + dt.timedelta(seconds=HORIZON)).client

    assert own.balance_client_id != Client.objects.get(workspace=workspace).balance_client_id
    assert len(balance_control.clients()) == 2


def test_janitor_adopts_an_abandoned_unknown_outcome(workspace, balance, balance_control):
    balance_control.inject("commit_then_timeout", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    with pytest.raises(UpstreamUnavailable):
        register(workspace, balance)
    client = Client.objects.get()

    resumed = operations.resume_client_registration(client_id=client.pk, balance=balance, now=NOW)

    assert resumed.status == Client.Status.ACTIVE
    assert resumed.balance_client_id == balance_control.clients()[0]["CLIENT_ID"]
    assert len(balance_control.calls("CreateClient")) == 1


def test_janitor_creates_an_abandoned_client_that_never_reached_balance(workspace, balance, balance_control):
    balance_control.inject("unavailable", count=1)
    with pytest.raises(UpstreamUnavailable):
        register(workspace, balance)

    resumed = operations.resume_client_registration(
        client_id=Client.objects.get().pk, balance=balance, now=NOW + dt.timedelta(minutes=20)
    )

    assert resumed.status == Client.Status.ACTIVE
    assert balance_control.clients()[0]["links"] == [{"integration": "c2b", "configuration": "c2b_default"}]


def test_stalled_registrations_are_the_old_pending_ones(workspace, balance, balance_control):
    from billy.clients import queries

    balance_control.inject("unavailable", count=2)
    for service_client_id, now in (("old", NOW), ("fresh", NOW + dt.timedelta(minutes=30))):
        with pytest.raises(UpstreamUnavailable):
            register(workspace, balance, service_client_id=service_client_id, now=now)
    register(workspace, balance, service_client_id="done", now=NOW)

    stalled = queries.stalled_registrations(untouched_since=NOW + dt.timedelta(minutes=10))

    assert stalled == [Client.objects.get(service_client_id="old").pk]
