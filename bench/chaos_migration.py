"""The fault run's move of families to the identity provider: families made before the taxi's
experiment is switched on, lazy triggers (owners opening the app) and members added while the
provider and the workers fail, a batch run (`billy families migrate`) at the end, and the check that
each migrated family exists exactly once at the provider with all its members.

Kept apart from chaos.py, chaos_ops.py and chaos_checks.py, which call in here: `setup` before the
actors start, the actor step `trigger`, `finish` once they stopped, `PENDING` and `check`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx

TAXI = "taxi"
FAMILIES = 8
MAX_MEMBERS = 5  # BILLY_FAMILY_MAX_MEMBERS, the owner included
FAULT_WEIGHT = 2
ROOT = Path(__file__).resolve().parent.parent

PENDING = {
    "family migrations under way": "SELECT count(*) FROM family_migration"
    " WHERE state NOT IN ('DONE', 'PARTIAL', 'FAILED')",
}

_lock = threading.Lock()
_families: dict[str, dict] = {}  # family id → {"owner", "members": [uid, ...]}
_added = [0]


_EXPERIMENT = """
    UPDATE family_migration_experiment SET percent = %s
     WHERE workspace_id = (SELECT id FROM workspace WHERE name = %s)
"""


def _owner(i: int) -> str:
    return f"mig-owner-{i}"


def setup(env: dict[str, str], db) -> None:
    """FAMILIES families of portal users (one member of the last family without a portal account,
    so it ends PARTIAL), made through the API while the experiment is off; then the experiment on."""
    identity, http = env["identity"], _api(env)
    db.execute(_EXPERIMENT, [0, TAXI])
    for i in range(FAMILIES):
        owner, members = _owner(i), [f"mig-kid-{i}", f"mig-partner-{i}"]
        for n, uid in enumerate([owner, *members]):
            portal = not (i == FAMILIES - 1 and n == 2)
            body = {"uid": uid, "phone": f"+7555{i:04d}{n:03d}", "portal": portal}
            httpx.post(identity + "/_emulator/users", json=body, timeout=10).raise_for_status()
        made = http.post(f"/workspaces/{TAXI}/families", json={"owner": owner, "name": f"Migrating {i}"})
        made.raise_for_status()
        family_id = made.json()["id"]
        for n, uid in enumerate(members):
            body = {"acting_user_id": owner, "user_id": uid, "phone": f"+7555{i:04d}{n + 1:03d}"}
            http.post(f"/workspaces/{TAXI}/families/{family_id}/members", json=body).raise_for_status()
        _families[family_id] = {"owner": owner, "members": [owner, *members]}
    db.execute(_EXPERIMENT, [100, TAXI])


def _api(env: dict[str, str]) -> httpx.Client:
    return httpx.Client(base_url=env["http"] + "/api/v1", headers={"Authorization": f"Bearer {env['key']}"}, timeout=60)


def trigger(actor) -> None:
    """An owner opens the app (the lazy trigger), or adds a member (written to the provider first
    once the family moved; during the move, the move takes the member along)."""
    family_id = actor.rng.choice(sorted(_families))
    family = _families[family_id]
    if actor.rng.random() < 0.75:
        path = f"/workspaces/{TAXI}/users/{family['owner']}/payment-methods"
        actor._http("family_migrate_trigger", "GET", path, {"user_id": family["owner"]})
        return
    with _lock:
        if len(family["members"]) >= MAX_MEMBERS:
            return
        _added[0] += 1
        uid = f"mig-late-{_added[0]}"
        family["members"].append(uid)  # until an answer says otherwise
    phone = f"+7556{_added[0]:07d}"
    httpx.post(actor.env["identity"] + "/_emulator/users", json={"uid": uid, "phone": phone}, timeout=10)
    body = {"acting_user_id": family["owner"], "user_id": uid, "phone": phone}
    answer = actor._http(
        "family_migrate_add_member",
        "POST",
        f"/workspaces/{TAXI}/families/{family_id}/members",
        {"user_id": uid},
        json=body,
    )
    if answer.outcome == "refused":  # an outage leaves it counted: the final state says whether it happened
        with _lock:
            family["members"].remove(uid)


def finish(env: dict[str, str]) -> list[str]:
    """Plan B, as an operator would run it once the faults stopped: every family not moved yet."""
    done = subprocess.run(
        [sys.executable, "-m", "billy", "families", "migrate", "--workspace", TAXI, "--all", "--rate", "50"],
        env={**os.environ, "DATABASE_URL": env["database"], "IDENTITY_URL": env["identity"], "CARDS_URL": env["cards"]},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        return [f"billy families migrate exited {done.returncode}: {(done.stdout + done.stderr)[-1000:]}"]
    return []


def check(db, env: dict[str, str]) -> list[str]:
    """Each migrated family exists exactly once at the provider, its owner the admin, with all its
    members (but those billy marked as waiting for a portal account); no other provider family."""
    provider = httpx.get(env["identity"] + "/_emulator/families", timeout=30).json()["families"]
    by_admin: dict[str, list[dict]] = {}
    for f in provider:
        by_admin.setdefault(f["admin"], []).append(f)
    rows = db.execute(
        "SELECT f.id, f.owner_user_id, f.passport_family_id, m.state FROM family f"
        " JOIN family_migration m ON m.family_id = f.id WHERE f.is_active"
    ).fetchall()
    findings = []
    for pk, owner, passport_id, state in rows:
        if state not in ("DONE", "PARTIAL"):
            findings.append(f"family #{pk} of {owner}: migration {state}")
            continue
        found = by_admin.get(owner, [])
        if len(found) != 1 or found[0]["family_id"] != passport_id:
            findings.append(f"family #{pk} of {owner}: {len(found)} provider families, billy has {passport_id!r}")
            continue
        members = {u for (u,) in db.execute("SELECT user_id FROM family_member WHERE family_id = %s", [pk])}
        waiting = {
            u
            for (u,) in db.execute(
                "SELECT mm.user_id FROM family_member_migration mm JOIN family_migration m ON m.id = mm.migration_id"
                " WHERE m.family_id = %s AND mm.state IN ('NEEDS_IDENTITY', 'CONFLICT')",
                [pk],
            )
        }
        at_provider = {m["uid"] for m in found[0]["members"]}
        if at_provider != members - waiting:
            findings.append(
                f"family #{pk} of {owner}: the provider has {sorted(at_provider)}, billy {sorted(members - waiting)}"
            )
        if state == "DONE" and waiting:
            findings.append(f"family #{pk} of {owner} is DONE with members waiting: {sorted(waiting)}")
    owners = {owner for _, owner, _, _ in rows}
    findings += [
        f"a provider family billy does not know: {f['family_id']} of {f['admin']}"
        for f in provider
        if f["admin"] not in owners
    ]
    moved = {owner for _, owner, _, state in rows if state in ("DONE", "PARTIAL")}
    findings += [f"family of {o} was never moved" for f in _families.values() if (o := f["owner"]) not in moved]
    return findings
