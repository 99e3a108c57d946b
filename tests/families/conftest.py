"""Fixtures for family accounts: the card payment system emulator on loopback, the taxi workspace,
a family built through the operations, and `stack` (real `billy serve` and `billy worker`)."""

from __future__ import annotations

import dataclasses
import subprocess

import httpx
import pytest

from billy.core.money import parse_amount
from billy.families import membership
from billy.families.models import Family
from billy.integrations.cards.emulator import CardsEmulatorControl
from tests.conftest import CARDS_TIMEOUT, NOW, billy_process, billy_server, make_api_key, make_workspace, wait_http

OWNER = "owner-1"


@pytest.fixture
def taxi(transactional_db, jobs_cleanup, cards):
    return make_workspace("taxi")


@dataclasses.dataclass(frozen=True)
class Demo:
    family: Family
    card_id: str


def make_family(workspace, cards: CardsEmulatorControl, *, owner: str = OWNER, members=()) -> Demo:
    """A family of `owner` with `members` ((user_id, limit text or None), ...) and the owner's card."""
    family = membership.create_family(workspace=workspace, owner=owner, name="Family", now=NOW)
    for user_id, limit in members:
        membership.add_member(
            workspace=workspace,
            family_id=family.family_id,
            acting_user_id=owner,
            user_id=user_id,
            phone="+79990000000",
            limit=parse_amount(limit) if limit else None,
            now=NOW,
        )
    card_id = cards.bind_card(owner)
    membership.set_payment_method(
        workspace=workspace, family_id=family.family_id, acting_user_id=owner, payment_method_id=card_id, now=NOW
    )
    return Demo(family=Family.objects.get(pk=family.pk), card_id=card_id)


@pytest.fixture
def taxi_key(taxi) -> str:
    return make_api_key("taxi")


@dataclasses.dataclass
class Stack:
    api: httpx.Client
    base: str


@pytest.fixture
def stack(taxi, cards_emulator, tmp_path):
    """billy serve (two processes) + billy worker on the test database, the card system at its emulator."""
    env = {
        "CARDS_URL": cards_emulator.base_url,
        "CARDS_TIMEOUT": str(CARDS_TIMEOUT),
        "CARDS_CONNECT_TIMEOUT": "1",
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
    worker = billy_process("worker", env=env, stdout=(tmp_path / "worker.log").open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health", server)
        api = httpx.Client(
            base_url=base + "/api/v1/workspaces/taxi",
            headers={"Authorization": f"Bearer {make_api_key('taxi')}"},
            timeout=30,
        )
        yield Stack(api=api, base=base)
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait(timeout=30)
