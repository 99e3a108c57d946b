"""The identity provider adapter against its emulator over loopback: families and their rules,
the errors billy tells apart, the control API, the rate limit."""

from __future__ import annotations

import httpx
import pytest

from billy.integrations.identity.client import HttpIdentityProvider
from billy.integrations.identity.port import (
    IdentityOutcomeUnknown,
    IdentityRejected,
    IdentityUnavailable,
    IdentityUser,
)
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS, wait_for


def _code(call) -> str:
    with pytest.raises(IdentityRejected) as caught:
        call()
    return caught.value.code


def test_a_family_is_created_joined_left_and_deleted(identity, identity_provider):
    p = identity_provider
    identity.add_user("admin", phone="+70000000001")
    identity.add_user("kid", phone="+70000000002")
    identity.add_user("guest", phone="+70000000003", portal=False)
    assert p.get_user(uid="guest") == IdentityUser(uid="guest", phone="+70000000003", portal=False)
    assert p.get_user(uid="nobody") is None
    assert p.get_family(uid="admin") is None

    family = p.create_family(admin="admin")
    assert (family.admin, family.uids) == ("admin", {"admin"})
    assert _code(lambda: p.create_family(admin="admin")) == "in_another_family"
    assert p.add_member(family_id=family.family_id, uid="kid").uids == {"admin", "kid"}
    assert _code(lambda: p.add_member(family_id=family.family_id, uid="kid")) == "already_in_this_family"
    assert _code(lambda: p.add_member(family_id=family.family_id, uid="guest")) == "no_portal_account"
    assert _code(lambda: p.add_member(family_id=family.family_id, uid="nobody")) == "no_such_user"
    assert p.get_family(uid="kid") == p.get_family(uid="admin")
    assert [m.phone for m in p.get_family(uid="kid").members] == ["+70000000001", "+70000000002"]
    assert identity.families()[0]["members"][1] == {"uid": "kid", "phone": "+70000000002"}

    assert p.leave(family_id=family.family_id, uid="kid").uids == {"admin"}
    p.add_member(family_id=family.family_id, uid="kid")
    assert p.remove_member(family_id=family.family_id, uid="kid").uids == {"admin"}
    assert _code(lambda: p.remove_member(family_id=family.family_id, uid="kid")) == "not_a_member"
    p.delete_family(family_id=family.family_id)
    assert p.get_family(uid="admin") is None
    assert identity.families() == []


def test_a_full_family_and_another_family(identity_emulator, identity):
    p = HttpIdentityProvider(identity_emulator.base_url, "dev-identity-token")
    for n in range(9):
        identity.add_user(f"u{n}")
    family = p.create_family(admin="u0")
    for n in range(1, 8):
        p.add_member(family_id=family.family_id, uid=f"u{n}")
    assert _code(lambda: p.add_member(family_id=family.family_id, uid="u8")) == "family_full"
    other = p.create_family(admin="u8")
    assert _code(lambda: p.add_member(family_id=other.family_id, uid="u1")) == "in_another_family"


def test_faults_are_told_apart(identity, identity_provider, refused_port):
    identity.add_user("admin")
    identity.inject("unavailable")
    with pytest.raises(IdentityUnavailable):
        identity_provider.get_family(uid="admin")
    identity.inject("error")
    with pytest.raises(IdentityOutcomeUnknown):
        identity_provider.create_family(admin="admin")
    assert identity.families() == []
    identity.inject("commit_then_timeout", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    with pytest.raises(IdentityOutcomeUnknown):
        identity_provider.create_family(admin="admin")
    assert identity_provider.get_family(uid="admin").admin == "admin"  # it was made
    with pytest.raises(IdentityUnavailable):
        HttpIdentityProvider(f"http://127.0.0.1:{refused_port}", "t").get_family(uid="admin")


def test_the_rate_limit_refuses_with_429(identity, identity_emulator):
    identity.add_user("admin")
    identity.set_rate(2)
    headers = {"Authorization": "Bearer dev-identity-token"}
    statuses = [
        httpx.get(f"{identity_emulator.base_url}/v1/users/admin", headers=headers).status_code for _ in range(10)
    ]
    assert 429 in statuses and 200 in statuses
    identity.set_rate(None)
    wait_for(lambda: httpx.get(f"{identity_emulator.base_url}/v1/users/admin", headers=headers).status_code == 200)
