"""The move of a family to the identity provider, step by step, against the provider and card
system emulators over loopback: create or adopt, members added or matched, PARTIAL and its
completion, an answer lost after the provider committed, a provider that is down, pushes once."""

from __future__ import annotations

import pytest
from django.db import connection

from billy.families import migration, passport
from billy.families import queries as family_queries
from billy.families.migration import MigrationDeferred, migrate_family
from billy.families.migration_trigger import bucket, in_experiment, request_migration
from billy.families.models import Family, FamilyMigration, MemberMigration
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS, NOW, wait_for

from .migration_helpers import (
    KID,
    OWNER,
    PARTNER,
    creates,
    experiment,
    family_of_three,
    jobs,
    state,
    the_provider_family,
    users,
)


@pytest.fixture
def run(identity_provider, card_system):
    def run(family: Family, source: str = "BATCH") -> str:
        return migrate_family(
            family_pk=family.pk, identity=identity_provider, cards=card_system, now=NOW, source=source
        )

    return run


def _other_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _pushes() -> dict[str, str]:
    return {j["args"]["user_id"]: j["args"]["template"] for j in jobs(migration.NOTIFY_TASK)}


def test_a_family_moves_with_every_member_its_card_and_pushes(taxi, cards, identity, run):
    users(identity, OWNER, KID, PARTNER)
    demo = family_of_three(taxi, cards)
    experiment(taxi)  # the deep links

    assert run(demo.family) == "DONE"

    provider = the_provider_family(identity, OWNER)
    assert {m["uid"] for m in provider["members"]} == {OWNER, KID, PARTNER}
    family = Family.objects.get(pk=demo.family.pk)
    assert family.passport_family_id == provider["family_id"] and family.passport_account
    rows = {r.user_id: r.state for r in MemberMigration.objects.filter(migration__family=family)}
    assert rows == {OWNER: "MATCHED", KID: "ADDED", PARTNER: "ADDED"}
    assert _pushes() == {
        OWNER: "family_migrated_owner",
        KID: "family_migrated_member",
        PARTNER: "family_migrated_member",
    }
    [owner_push] = [j for j in jobs(migration.NOTIFY_TASK) if j["args"]["user_id"] == OWNER]
    assert owner_push["args"]["params"]["deep_link"] == "taxi://family/moved?role=owner"
    # The card payment system keeps the limits now.
    kid_limit = card_system_limit(cards, provider["family_id"], KID)
    assert (kid_limit["limit"], kid_limit["remaining"]) == ("1000.00", "1000.00")
    # A second run changes nothing and tells no one again.
    assert run(family) == "DONE"
    assert len(creates(identity)) == 1 and len(jobs(migration.NOTIFY_TASK)) == 3


def card_system_limit(cards, family_id: str, uid: str) -> dict:
    response = cards._http.get(
        f"/v1/families/{family_id}/members/{uid}", headers={"Authorization": "Bearer dev-cards-token"}
    )
    response.raise_for_status()
    return response.json()


def test_a_family_already_at_the_provider_is_adopted_and_matched_by_phone(
    taxi, cards, identity, identity_provider, run
):
    users(identity, OWNER, KID, PARTNER)
    identity.add_user("kid-passport", phone="+79990000000")  # the number billy has for the kid
    identity.add_user("stranger", phone="+70000000009")
    existing = identity_provider.create_family(admin=OWNER)
    identity_provider.add_member(family_id=existing.family_id, uid="kid-passport")
    identity_provider.add_member(family_id=existing.family_id, uid="stranger")
    demo = make_two(taxi, cards)  # owner + kid-1 with phone +79990000000

    assert run(demo.family) == "DONE"

    migration_row = FamilyMigration.objects.get(family=demo.family)
    assert migration_row.adopted and len(creates(identity)) == 1  # the test's own
    rows = {r.user_id: (r.state, r.identity_uid) for r in migration_row.members.all()}
    assert rows == {
        OWNER: ("MATCHED", OWNER),
        KID: ("MATCHED", "kid-passport"),
        "stranger": ("PROVIDER_ONLY", "stranger"),
    }
    family = family_queries.get_family(workspace=taxi, family_id=demo.family.family_id)
    shown = {m.user_id: (m.read_only, m.limit.amount if m.limit else None) for m in family.shown_members}
    assert shown == {OWNER: (False, None), "kid-passport": (False, 100000), "stranger": (True, None)}


def make_two(taxi, cards):
    from .conftest import make_family

    return make_family(taxi, cards, members=((KID, "1000.00"),))


def test_a_member_without_a_portal_account_leaves_the_family_partial_until_they_get_one(taxi, cards, identity, run):
    users(identity, OWNER, PARTNER)
    users(identity, KID, portal=False)
    demo = family_of_three(taxi, cards)

    assert run(demo.family) == "PARTIAL"
    kid = MemberMigration.objects.get(migration__family=demo.family, user_id=KID)
    assert (kid.state, kid.last_error, kid.pushed_at) == ("NEEDS_IDENTITY", "no_portal_account", None)
    assert Family.objects.get(pk=demo.family.pk).passport_account
    assert set(_pushes()) == {OWNER, PARTNER}

    users(identity, KID)  # the kid gets a portal account; the family is tried again
    assert request_migration(family=demo.family, source="OPERATOR", now=NOW)
    assert run(demo.family) == "DONE"
    assert {m["uid"] for m in the_provider_family(identity, OWNER)["members"]} == {OWNER, KID, PARTNER}
    assert MemberMigration.objects.get(migration__family=demo.family, user_id=KID).state == "ADDED"
    assert sorted(j["args"]["user_id"] for j in jobs(migration.NOTIFY_TASK)) == sorted([OWNER, PARTNER, KID])


def test_a_create_committed_with_its_answer_lost_is_read_back_not_repeated(taxi, cards, identity, run):
    users(identity, OWNER, KID, PARTNER)
    demo = family_of_three(taxi, cards)
    identity.inject("delay", seconds=0)  # the first read answers
    identity.inject("commit_then_timeout", seconds=COMMIT_THEN_TIMEOUT_SECONDS)  # the create's answer is lost

    assert run(demo.family) == "DONE"

    assert len(identity.families()) == 1 and len(creates(identity)) == 1
    assert {m["uid"] for m in the_provider_family(identity, OWNER)["members"]} == {OWNER, KID, PARTNER}
    assert not FamilyMigration.objects.get(family=demo.family).adopted


def test_a_provider_that_is_down_changes_nothing_and_the_next_run_finishes(taxi, cards, identity, run):
    users(identity, OWNER, KID, PARTNER)
    demo = family_of_three(taxi, cards)
    identity.inject("down", seconds=600)

    with pytest.raises(MigrationDeferred):
        run(demo.family)
    row = FamilyMigration.objects.get(family=demo.family)
    assert row.state == "PENDING" and "IdentityUnavailable" in row.last_error
    assert Family.objects.get(pk=demo.family.pk).passport_family_id == ""

    identity.clear_faults()
    assert run(demo.family) == "DONE"
    assert len(identity.families()) == 1
    assert FamilyMigration.objects.get(family=demo.family).last_error == ""


def test_a_provider_error_after_the_create_resumes_from_the_stored_family(taxi, cards, identity, run):
    users(identity, OWNER, KID, PARTNER)
    demo = family_of_three(taxi, cards)
    identity.inject("delay", seconds=0, count=2)  # read, create
    identity.inject("unavailable")  # adding the first member

    with pytest.raises(MigrationDeferred):
        run(demo.family)
    assert state(demo.family) == "MEMBERS"
    assert Family.objects.get(pk=demo.family.pk).passport_family_id

    assert run(demo.family) == "DONE"
    assert len(creates(identity)) == 1
    assert {m["uid"] for m in the_provider_family(identity, OWNER)["members"]} == {OWNER, KID, PARTNER}


def test_an_owner_without_a_portal_account_fails_for_an_operator(taxi, cards, identity, run):
    users(identity, OWNER, portal=False)
    demo = family_of_three(taxi, cards)
    assert run(demo.family) == "FAILED"
    assert "portal account" in FamilyMigration.objects.get(family=demo.family).last_error
    assert identity.families() == []


def test_the_experiment_is_a_stable_share_of_owners_plus_an_allowlist(taxi):
    assert [bucket(f"user-{n}") for n in range(5)] == [bucket(f"user-{n}") for n in range(5)]
    half = experiment(taxi, percent=50, allowlist=["vip"])
    inside = sum(in_experiment(half, f"user-{n}") for n in range(2000))
    assert 850 < inside < 1150
    assert in_experiment(experiment(taxi, percent=0, allowlist=["vip"]), "vip")
    assert not in_experiment(experiment(taxi, percent=0), "user-1")
    assert all(in_experiment(experiment(taxi, percent=100), f"user-{n}") for n in range(100))


def test_at_most_one_migration_job_waits_per_family(taxi, cards, identity):
    demo = family_of_three(taxi, cards)
    assert request_migration(family=demo.family, source="LAZY", now=NOW)
    assert not request_migration(family=demo.family, source="LAZY", now=NOW)
    assert len(jobs("billy.families.migrate_family")) == 1


def test_after_the_move_membership_is_written_to_the_provider_first(taxi, cards, identity, run):
    from billy.families import membership
    from billy.families.errors import IdentityAccountRequired, IdentityProviderUnavailable

    users(identity, OWNER, KID, PARTNER, "late-1")
    users(identity, "no-portal", portal=False)
    demo = family_of_three(taxi, cards)
    assert run(demo.family) == "DONE"
    fid = demo.family.family_id

    membership.add_member(
        workspace=taxi, family_id=fid, acting_user_id=OWNER, user_id="late-1", phone="+7000", limit=None, now=NOW
    )
    assert "late-1" in {m["uid"] for m in the_provider_family(identity, OWNER)["members"]}
    with pytest.raises(IdentityAccountRequired):
        membership.add_member(
            workspace=taxi, family_id=fid, acting_user_id=OWNER, user_id="no-portal", phone="+7", limit=None, now=NOW
        )
    assert not demo.family.members.filter(user_id="no-portal").exists()
    membership.leave_family(workspace=taxi, family_id=fid, user_id="late-1")
    membership.remove_member(workspace=taxi, family_id=fid, acting_user_id=OWNER, user_id=PARTNER)
    assert {m["uid"] for m in the_provider_family(identity, OWNER)["members"]} == {OWNER, KID}

    identity.inject("down", seconds=600)
    with pytest.raises(IdentityProviderUnavailable):
        family_queries.get_family(workspace=taxi, family_id=fid)
    with pytest.raises(IdentityProviderUnavailable):
        membership.remove_member(workspace=taxi, family_id=fid, acting_user_id=OWNER, user_id=KID)
    assert demo.family.members.filter(user_id=KID).exists()
    identity.clear_faults()

    membership.delete_family(workspace=taxi, family_id=fid, acting_user_id=OWNER, now=NOW)
    assert identity.families() == []


def test_a_new_family_of_an_owner_in_the_experiment_is_born_at_the_provider(taxi, identity):
    from billy.families import membership
    from billy.families.errors import IdentityAccountRequired

    experiment(taxi)
    users(identity, OWNER)
    users(identity, "no-portal", portal=False)
    family = membership.create_family(workspace=taxi, owner=OWNER, name="F", now=NOW)
    assert family.passport_account and the_provider_family(identity, OWNER)["family_id"] == family.passport_family_id
    with pytest.raises(IdentityAccountRequired):
        membership.create_family(workspace=taxi, owner="no-portal", name="F", now=NOW)
    assert not Family.objects.filter(owner_user_id="no-portal").exists()
    assert passport.creating_needs_identity(taxi.pk, "anyone")


def test_the_lazy_trigger_asks_for_owners_in_the_experiment_with_a_portal_account(taxi, cards, identity, run):
    from billy.families.migration_trigger import app_opened
    from billy.integrations.identity import get_identity_provider

    users(identity, OWNER, PARTNER)
    users(identity, KID, portal=False)
    demo = family_of_three(taxi, cards)
    provider = get_identity_provider()

    experiment(taxi, percent=0)
    assert not app_opened(workspace=taxi, user_id=OWNER, identity=provider, now=NOW)  # not in the experiment
    experiment(taxi, percent=0, allowlist=[OWNER])
    assert not app_opened(workspace=taxi, user_id=KID, identity=provider, now=NOW)  # not the owner
    assert app_opened(workspace=taxi, user_id=OWNER, identity=provider, now=NOW)
    assert not app_opened(workspace=taxi, user_id=OWNER, identity=provider, now=NOW)  # one waits already
    assert len(jobs("billy.families.migrate_family")) == 1

    assert run(demo.family, "LAZY") == "PARTIAL"
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")
    assert not app_opened(workspace=taxi, user_id=KID, identity=provider, now=NOW)  # still no portal account
    users(identity, KID)
    assert app_opened(workspace=taxi, user_id=KID, identity=provider, now=NOW)  # the member the family waits for
    assert run(demo.family, "LAZY") == "DONE"
    assert not app_opened(workspace=taxi, user_id=OWNER, identity=provider, now=NOW)  # moved


def test_a_batch_selection_by_owners_and_a_dry_run(taxi, cards, identity):
    from billy.families import batch
    from billy.integrations.cards import get_card_system
    from billy.integrations.identity import get_identity_provider

    users(identity, OWNER, KID, PARTNER, "owner-2", "kid-2", "partner-2")
    first = family_of_three(taxi, cards)
    family_of_three(taxi, cards, owner="owner-2", kid="kid-2", partner="partner-2")
    assert batch.dry_run(workspace=taxi, owners=None) == batch.DryRun(total=2, migrated=0, partial=0, to_move=2)

    run_row, resumed = batch.start_or_resume(workspace=taxi, owners=["owner-2"], now=NOW)
    assert (resumed, run_row.total) == (False, 1)
    sessions = _other_sessions()  # other tests' servers may hold some
    finished = batch.run_batch(run=run_row, identity=get_identity_provider(), cards=get_card_system(), rate=None)
    assert (finished.status, finished.done) == ("FINISHED", 1)
    wait_for(lambda: _other_sessions() <= sessions, timeout=60)  # the run's threads closed their connections
    assert not FamilyMigration.objects.filter(family=first.family).exists()
    assert [f["admin"] for f in identity.families()] == ["owner-2"]
    assert batch.dry_run(workspace=taxi, owners=None) == batch.DryRun(total=2, migrated=1, partial=0, to_move=1)


def test_a_retried_membership_change_the_provider_already_took_is_adopted(
    taxi, cards, identity, run, identity_provider
):
    """The provider took the change but billy's side of it did not commit (or its answer was
    lost): the retry finds the change there and billy's rows follow, instead of a 409 or 404."""
    from billy.families import membership

    users(identity, OWNER, KID, PARTNER, "late-1")
    demo = family_of_three(taxi, cards)
    assert run(demo.family) == "DONE"
    fid, pfid = demo.family.family_id, the_provider_family(identity, OWNER)["family_id"]

    identity_provider.add_member(family_id=pfid, uid="late-1")  # the provider took the first try
    membership.add_member(
        workspace=taxi, family_id=fid, acting_user_id=OWNER, user_id="late-1", phone="+7000", limit=None, now=NOW
    )
    assert demo.family.members.filter(user_id="late-1").exists()
    assert MemberMigration.objects.get(migration__family=demo.family, user_id="late-1").state == "ADDED"

    identity_provider.remove_member(family_id=pfid, uid=PARTNER)
    membership.remove_member(workspace=taxi, family_id=fid, acting_user_id=OWNER, user_id=PARTNER)
    identity_provider.leave(family_id=pfid, uid="late-1")
    membership.leave_family(workspace=taxi, family_id=fid, user_id="late-1")
    assert set(demo.family.members.values_list("user_id", flat=True)) == {OWNER, KID}
    assert {m["uid"] for m in the_provider_family(identity, OWNER)["members"]} == {OWNER, KID}


def test_a_member_removed_while_the_family_moves_is_taken_out_at_the_provider(
    taxi, cards, identity, identity_provider, card_system
):
    """The owner removes a member right after the move put them in the provider family: the
    removal is carried there, not left behind as a read-only provider member."""
    from billy.families import membership

    users(identity, OWNER, KID, PARTNER)
    demo = family_of_three(taxi, cards)

    class RemovingAfterAdd:
        def __getattr__(self, name):
            return getattr(identity_provider, name)

        def add_member(self, *, family_id, uid):
            found = identity_provider.add_member(family_id=family_id, uid=uid)
            if uid == KID:
                membership.remove_member(
                    workspace=taxi, family_id=demo.family.family_id, acting_user_id=OWNER, user_id=KID
                )
            return found

    state_reached = migrate_family(
        family_pk=demo.family.pk, identity=RemovingAfterAdd(), cards=card_system, now=NOW, source="BATCH"
    )
    assert state_reached == "DONE"
    assert {m["uid"] for m in the_provider_family(identity, OWNER)["members"]} == {OWNER, PARTNER}
    assert not MemberMigration.objects.filter(migration__family=demo.family, user_id=KID).exists()
    shown = family_queries.get_family(workspace=taxi, family_id=demo.family.family_id).shown_members
    assert {m.user_id for m in shown} == {OWNER, PARTNER}


def test_a_family_closed_while_it_moves_leaves_no_family_at_the_provider(
    taxi, cards, identity, identity_provider, card_system
):
    """The owner deletes the family while its move is adding members: the provider family the move
    created is deleted again (a new family of the owner would otherwise adopt its old members)."""
    from billy.families import membership

    users(identity, OWNER, KID, PARTNER)
    demo = family_of_three(taxi, cards)

    class ClosingAfterAdd:
        def __getattr__(self, name):
            return getattr(identity_provider, name)

        def add_member(self, *, family_id, uid):
            found = identity_provider.add_member(family_id=family_id, uid=uid)
            if uid == KID:
                membership.delete_family(workspace=taxi, family_id=demo.family.family_id, acting_user_id=OWNER, now=NOW)
            return found

    state_reached = migrate_family(
        family_pk=demo.family.pk, identity=ClosingAfterAdd(), cards=card_system, now=NOW, source="BATCH"
    )
    assert state_reached == "FAILED"
    assert identity.families() == []
    assert Family.objects.get(pk=demo.family.pk).migrated_at is None


def test_check_available_of_a_member_not_handed_to_the_card_system_yet_is_billys_limit(
    taxi, cards, identity, run, card_system
):
    """A member added after the move is on the card system's family card once the deferred
    hand-over runs; until then check_available answers billy's limit (which every spending is
    reserved against too), not a 503."""
    from billy.families import membership
    from billy.families.migration import sync_family_card

    users(identity, OWNER, KID, PARTNER, "late-1")
    demo = family_of_three(taxi, cards)
    assert run(demo.family) == "DONE"
    membership.add_member(
        workspace=taxi,
        family_id=demo.family.family_id,
        acting_user_id=OWNER,
        user_id="late-1",
        phone="+7000",
        limit=50_00,
        now=NOW,
    )

    def available(amount: int) -> bool:
        return family_queries.check_available(
            workspace=taxi, family_id=demo.family.family_id, user_id="late-1", amount=amount, now=NOW, cards=card_system
        ).available

    assert available(50_00) and not available(50_01)
    assert sync_family_card(family_pk=demo.family.pk, cards=card_system)
    assert available(50_00) and not available(50_01)


def test_one_batch_run_is_driven_by_one_process_at_a_time(taxi, cards, identity, identity_provider, card_system):
    """The same command started twice does not drive one run from two processes (their cursors
    would pass each other's families and the tallies would count families twice)."""
    import threading

    from django.db import connections

    from billy.core.locks import try_session_lock
    from billy.families import batch

    users(identity, OWNER, KID, PARTNER)
    family_of_three(taxi, cards)
    run_row, _ = batch.start_or_resume(workspace=taxi, owners=None, now=NOW)
    answers = []

    def other_process() -> None:
        try:
            answers.append(batch.run_batch(run=run_row, identity=identity_provider, cards=card_system, rate=None))
        except Exception as e:
            answers.append(e)
        finally:
            connections.close_all()

    with try_session_lock(batch.RUN_LOCK, run_row.pk) as mine:
        assert mine
        thread = threading.Thread(target=other_process)
        thread.start()
        thread.join(timeout=120)
    [answer] = answers
    assert isinstance(answer, batch.RunInProgress), answer
    run_row.refresh_from_db()
    assert (run_row.status, run_row.cursor, run_row.done) == ("RUNNING", 0, 0)
    assert batch.run_batch(run=run_row, identity=identity_provider, cards=card_system, rate=None).done == 1


def _answers_fail(monkeypatch, *, times: int) -> None:
    """The next `times` answers of the family views fail reading the family back (a 503), after
    the change they answer for was made."""
    from billy.api.http import families as family_views
    from billy.families.errors import IdentityProviderUnavailable

    real, failures = family_views._family_out, [1] * times

    def failing(ws, family_id):
        if failures:
            failures.pop()
            raise IdentityProviderUnavailable()
        return real(ws, family_id)

    monkeypatch.setattr(family_views, "_family_out", failing)


def test_an_add_retried_with_its_key_after_the_answer_failed_succeeds(
    taxi, cards, identity, run, client, taxi_key, monkeypatch
):
    """The member is added (at the provider, then in billy) but the answer, which reads the family
    back from the provider, fails with a 503: the retry with the same Idempotency-Key answers the
    family with the member, not 409 already_in_family; the answer is then replayed."""
    from .test_http import Api

    users(identity, OWNER, KID, PARTNER, "late-1")
    demo = family_of_three(taxi, cards)
    assert run(demo.family) == "DONE"
    api = Api(client, taxi_key)
    _answers_fail(monkeypatch, times=1)
    body = {"acting_user_id": OWNER, "user_id": "late-1", "phone": "+7000", "limit": "10.00"}
    path = f"/families/{demo.family.family_id}/members"
    first = api.call("post", path, body, idempotency_key="add-late-1")
    assert first.status_code == 503, first.content
    again = api.call("post", path, body, idempotency_key="add-late-1")
    assert again.status_code == 201, again.content
    assert "late-1" in {m["user_id"] for m in again.json()["members"]}
    assert api.call("post", path, body, idempotency_key="add-late-1").json() == again.json()
    unkeyed = api.call("post", path, body)
    assert (unkeyed.status_code, unkeyed.json()["error"]["code"]) == (409, "already_in_family")


def test_a_removal_or_leave_retried_with_its_key_after_the_answer_failed_succeeds(
    taxi, cards, identity, run, client, taxi_key, monkeypatch
):
    """As for an add: the member is gone at the provider and in billy, the answer's read failed;
    the retry with the key answers the family without them, not 404 member_not_found."""
    from .test_http import Api

    users(identity, OWNER, KID, PARTNER)
    demo = family_of_three(taxi, cards)
    assert run(demo.family) == "DONE"
    api = Api(client, taxi_key)
    _answers_fail(monkeypatch, times=2)
    fid = demo.family.family_id
    removing = (f"/families/{fid}/members/{KID}",)
    assert api.call("delete", removing[0], idempotency_key="rm-kid", acting_user_id=OWNER).status_code == 503
    assert api.call("post", f"/families/{fid}/leave", {"user_id": PARTNER}, idempotency_key="go").status_code == 503
    again = api.call("delete", removing[0], idempotency_key="rm-kid", acting_user_id=OWNER)
    assert again.status_code == 200, again.content
    left = api.call("post", f"/families/{fid}/leave", {"user_id": PARTNER}, idempotency_key="go")
    assert left.status_code == 200, left.content
    assert {m["user_id"] for m in left.json()["members"]} == {OWNER}
    unkeyed = api.call("delete", removing[0], acting_user_id=OWNER)
    assert (unkeyed.status_code, unkeyed.json()["error"]["code"]) == (404, "member_not_found")
