"""Helpers for the tests of the move to the identity provider."""

from __future__ import annotations

import hashlib
import json

from django.db import connection

from billy.families.models import Family, FamilyMigration, MigrationExperiment
from billy.integrations.identity.emulator import IdentityEmulatorControl

from .conftest import make_family

OWNER, KID, PARTNER = "owner-1", "kid-1", "partner-1"
PHONES = {OWNER: "+79990000000", KID: "+79990000001", PARTNER: "+79990000002"}


def users(identity: IdentityEmulatorControl, *uids: str, portal: bool = True) -> None:
    for uid in uids:
        identity.add_user(uid, phone=PHONES.get(uid) or phone_of(uid), portal=portal)


def phone_of(uid: str) -> str:
    return "+7" + str(int(hashlib.sha256(uid.encode()).hexdigest(), 16) % 10**10).zfill(10)


def experiment(workspace, percent: int = 100, allowlist=()) -> MigrationExperiment:
    found, _ = MigrationExperiment.objects.update_or_create(
        workspace=workspace,
        defaults={
            "percent": percent,
            "allowlist": list(allowlist),
            "owner_deep_link": "taxi://family/moved?role=owner",
            "member_deep_link": "taxi://family/moved?role=member",
        },
    )
    return found


def family_of_three(workspace, cards, *, owner: str = OWNER, kid: str = KID, partner: str = PARTNER):
    """owner + kid (limit 1,000.00) + partner (unlimited), the owner's card as the family card."""
    return make_family(workspace, cards, owner=owner, members=((kid, "1000.00"), (partner, None)))


def the_provider_family(identity: IdentityEmulatorControl, admin: str) -> dict:
    [found] = [f for f in identity.families() if f["admin"] == admin]
    return found


def creates(identity: IdentityEmulatorControl) -> list[dict]:
    return [r for r in identity.requests() if r["operation"] == "create_family"]


def state(family: Family) -> str:
    return FamilyMigration.objects.get(family=family).state


def jobs(task_name: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT args, status FROM procrastinate_jobs WHERE task_name = %s ORDER BY id", [task_name])
        return [{"args": json.loads(a) if isinstance(a, str) else a, "status": s} for a, s in cursor.fetchall()]
