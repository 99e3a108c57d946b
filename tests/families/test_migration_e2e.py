"""The move to the identity provider over real sockets: `billy serve` and `billy worker`
subprocesses on the test database, the identity provider, card payment system and notification
service emulators. The lazy flow; faults that must each end with exactly one provider family
holding every member, DONE: the provider down for a while, the worker SIGKILLed between the create
and the members, 20 concurrent lazy triggers, a batch run and lazy triggers at once; a batch run
interrupted with Ctrl-C and resumed without taking a family twice."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from billy.families import membership
from billy.families.migration_trigger import request_migration
from billy.families.models import Family, FamilyMigration, MigrationRun
from billy.integrations.notifications.emulator import NotificationsEmulator, NotificationsEmulatorControl
from tests.conftest import CARDS_TIMEOUT, NOW, billy_process, billy_server, make_api_key, wait_for, wait_http

from .migration_helpers import KID, OWNER, PARTNER, creates, experiment, family_of_three, phone_of, users

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def push_emulator():
    emulator = NotificationsEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def pushes(push_emulator) -> NotificationsEmulatorControl:
    control = NotificationsEmulatorControl(push_emulator.base_url)
    control.reset()
    return control


@dataclasses.dataclass
class Stack:
    api: httpx.Client
    env: dict[str, str]
    tmp: Path
    workers: list[subprocess.Popen]

    def start_worker(self) -> subprocess.Popen:
        log = (self.tmp / f"worker-{len(self.workers)}.log").open("w")
        worker = billy_process("worker", env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(worker)
        return worker


@pytest.fixture
def stack(taxi, cards, cards_emulator, identity, identity_emulator, pushes, push_emulator, tmp_path):
    env = {
        "CARDS_URL": cards_emulator.base_url,
        "CARDS_TIMEOUT": str(CARDS_TIMEOUT),
        "CARDS_CONNECT_TIMEOUT": "1",
        "IDENTITY_URL": identity_emulator.base_url,
        "IDENTITY_TIMEOUT": "60",  # a delayed call is waited for: the SIGKILL test kills the worker in it
        "IDENTITY_CONNECT_TIMEOUT": "1",
        "NOTIFICATIONS_URL": push_emulator.base_url,
        "BILLY_FAMILY_MIGRATION_RETRY_CAP_SECONDS": "2",
        "BILLY_LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "serve.log").open("w")
    server, port = billy_server(
        "serve",
        "--workers",
        "2",
        "--threads",
        "16",
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        port_file=tmp_path / "serve.port",
    )
    base = f"http://127.0.0.1:{port}"
    stack = Stack(api=httpx.Client(), env=env, tmp=tmp_path, workers=[])
    try:
        wait_http(base + "/health", server)
        stack.api = httpx.Client(
            base_url=base + "/api/v1/workspaces/taxi",
            headers={"Authorization": f"Bearer {make_api_key('taxi')}"},
            timeout=60,
        )
        yield stack
    finally:
        for process in (server, *stack.workers):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


def _state(family: Family) -> str | None:
    found = FamilyMigration.objects.filter(family=family).first()
    return found.state if found else None


def _whole(identity, owner: str, members: set[str]) -> None:
    """Exactly one provider family of `owner`, holding every member."""
    mine = [f for f in identity.families() if f["admin"] == owner]
    assert len(mine) == 1, mine
    assert {m["uid"] for m in mine[0]["members"]} == members


def _templates(pushes, user_id: str) -> list[str]:
    return [n["template"] for n in pushes.notifications(user_id=user_id)]


def test_an_owner_opening_the_app_moves_the_family(stack, taxi, cards, identity, pushes):
    users(identity, OWNER, KID, PARTNER, "late-1")
    demo = family_of_three(taxi, cards)
    experiment(taxi)
    stack.start_worker()

    opened = stack.api.get(f"/users/{OWNER}/payment-methods")
    assert opened.status_code == 200, opened.text
    wait_for(lambda: _state(demo.family) == "DONE", timeout=120)
    _whole(identity, OWNER, {OWNER, KID, PARTNER})
    wait_for(lambda: all(pushes.notifications(user_id=u) for u in (OWNER, KID, PARTNER)), timeout=120)
    assert _templates(pushes, OWNER) == ["family_migrated_owner"]
    assert _templates(pushes, KID) == _templates(pushes, PARTNER) == ["family_migrated_member"]
    [owner_push] = pushes.notifications(user_id=OWNER)
    assert owner_push["params"]["deep_link"] == "taxi://family/moved?role=owner"

    base = f"/families/{demo.family.family_id}"
    spent = stack.api.post(f"{base}/spendings", json={"spending_id": "ride-1", "user_id": KID, "amount": "300.00"})
    assert spent.status_code == 201, spent.text
    methods = stack.api.get(f"/users/{KID}/payment-methods").json()
    assert methods["family_accounts"][0]["details"]["passport_account"] is True
    [card] = [m for m in methods["payment_methods"] if m["payer_info"]]
    assert card["id"] == demo.card_id
    assert card["payer_info"]["family_info"] | {"family_id": None} == {
        "family_id": None,
        "usage": "300.00",  # the card system's own count of the kid's hold
        "limit": "1000.00",
        "frame": "MONTH",
    }
    check = stack.api.post(f"{base}/check-available", json={"user_id": KID, "amount": "800.00"}).json()
    assert (check["available"], check["remaining"]) == (False, "700.00")

    added = stack.api.post(f"{base}/members", json={"acting_user_id": OWNER, "user_id": "late-1", "phone": "+7001"})
    assert added.status_code == 201, added.text
    _whole(identity, OWNER, {OWNER, KID, PARTNER, "late-1"})
    family = stack.api.get(base).json()
    assert family["details"]["passport_account"] is True
    assert {m["user_id"] for m in family["members"]} == {OWNER, KID, PARTNER, "late-1"}
    refused = stack.api.post(f"{base}/members", json={"acting_user_id": OWNER, "user_id": "ghost", "phone": "+7"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "identity_account_required")
    identity.inject("down", seconds=600)
    down = stack.api.get(base)
    assert (down.status_code, down.json()["error"]["code"]) == (503, "identity_unavailable")
    identity.clear_faults()
    assert _templates(pushes, OWNER) == ["family_migrated_owner"]  # still once


def test_the_provider_down_for_a_while(stack, taxi, cards, identity):
    users(identity, OWNER, KID, PARTNER)
    demo = family_of_three(taxi, cards)
    identity.inject("down", seconds=600)
    request_migration(family=demo.family, source="LAZY", now=NOW)
    stack.start_worker()

    # The job meets the outage twice (it is retried), changing nothing; then the provider is back.
    wait_for(lambda: sum(r["outcome"] == "down" for r in identity.requests()) >= 2, timeout=180)
    assert Family.objects.get(pk=demo.family.pk).passport_family_id == ""
    assert identity.families() == []
    identity.clear_faults()

    wait_for(lambda: _state(demo.family) == "DONE", timeout=180)
    _whole(identity, OWNER, {OWNER, KID, PARTNER})
    assert FamilyMigration.objects.get(family=demo.family).attempts >= 3


def test_the_worker_killed_between_the_create_and_the_members(stack, taxi, cards, identity):
    users(identity, OWNER, KID, PARTNER)
    demo = family_of_three(taxi, cards)
    identity.inject("delay", count=2, seconds=0)  # the read and the create answer
    identity.inject("delay", seconds=20)  # adding the first member hangs: the worker dies in it
    request_migration(family=demo.family, source="LAZY", now=NOW)
    worker = stack.start_worker()

    wait_for(lambda: Family.objects.get(pk=demo.family.pk).passport_family_id, timeout=120)
    wait_for(lambda: any(r["operation"] == "create_family" for r in identity.requests()), timeout=60)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    assert _state(demo.family) == "MEMBERS"
    identity.clear_faults()

    stack.start_worker()
    request_migration(family=demo.family, source="LAZY", now=NOW)  # the owner opens the app again
    wait_for(lambda: _state(demo.family) == "DONE", timeout=120)
    _whole(identity, OWNER, {OWNER, KID, PARTNER})
    assert len(creates(identity)) == 1


def test_20_concurrent_lazy_triggers_move_the_family_once(stack, taxi, cards, identity, pushes):
    users(identity, OWNER, KID, PARTNER)
    demo = family_of_three(taxi, cards)
    experiment(taxi)
    stack.start_worker()

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: stack.api.get(f"/users/{OWNER}/payment-methods").status_code, range(20)))
    assert statuses == [200] * 20

    wait_for(lambda: _state(demo.family) == "DONE", timeout=120)
    _whole(identity, OWNER, {OWNER, KID, PARTNER})
    assert len(creates(identity)) == 1
    wait_for(lambda: all(pushes.notifications(user_id=u) for u in (OWNER, KID, PARTNER)), timeout=120)
    assert [len(pushes.notifications(user_id=u)) for u in (OWNER, KID, PARTNER)] == [1, 1, 1]


FAMILIES = 24


def _many(taxi, identity, n: int) -> list[Family]:
    found = []
    for i in range(n):
        owner, kid, partner = f"o-{i}", f"k-{i}", f"p-{i}"
        users(identity, owner, kid, partner)
        family = membership.create_family(workspace=taxi, owner=owner, name=f"F{i}", now=NOW)
        for user_id in (kid, partner):
            membership.add_member(
                workspace=taxi,
                family_id=family.family_id,
                acting_user_id=owner,
                user_id=user_id,
                phone=phone_of(user_id),
                limit=None,
                now=NOW,
            )
        found.append(family)
    return found


def _all_moved(identity, families: list[Family]) -> None:
    assert FamilyMigration.objects.filter(family__in=families, state="DONE").count() == len(families)
    at_provider = identity.families()
    assert len(at_provider) == len(families)
    for i in range(len(families)):
        _whole(identity, f"o-{i}", {f"o-{i}", f"k-{i}", f"p-{i}"})
    assert len(creates(identity)) == len(families)


def test_a_batch_run_and_lazy_triggers_at_once(stack, taxi, identity):
    families = _many(taxi, identity, FAMILIES)
    experiment(taxi)
    stack.start_worker()
    batch = billy_process(
        "families",
        "migrate",
        "--workspace",
        "taxi",
        "--all",
        env=stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda i: stack.api.get(f"/users/o-{i}/payment-methods").status_code, range(FAMILIES)))
    output, _ = batch.communicate(timeout=300)
    assert batch.returncode == 0, output
    assert statuses == [200] * FAMILIES
    wait_for(lambda: FamilyMigration.objects.filter(state="DONE").count() == FAMILIES, timeout=180)
    _all_moved(identity, families)
    run = MigrationRun.objects.get()
    assert run.done + run.partial + run.failed + run.skipped == FAMILIES


def test_a_batch_run_interrupted_with_ctrl_c_resumes_without_taking_a_family_twice(stack, taxi, identity):
    families = _many(taxi, identity, FAMILIES)
    identity.set_rate(20)
    command = ("families", "migrate", "--workspace", "taxi", "--all", "--rate", "15")
    first = billy_process(*command, env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: MigrationRun.objects.filter(done__gte=5).exists(), timeout=180)
    first.send_signal(signal.SIGINT)
    output, _ = first.communicate(timeout=120)
    assert first.returncode == 130, output
    assert "interrupted" in output and "run the same command again to resume" in output
    stopped = MigrationRun.objects.get()
    assert stopped.status == "RUNNING" and 0 < stopped.done < FAMILIES

    again = billy_process(*command, env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = again.communicate(timeout=300)
    assert again.returncode == 0, output
    assert f"resumed at family #{stopped.cursor}" in output and "finished" in output
    run = MigrationRun.objects.get()
    assert (run.status, run.done, run.skipped, run.failed) == ("FINISHED", FAMILIES, 0, 0)
    _all_moved(identity, families)
