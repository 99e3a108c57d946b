"""The Auth API adapter against its emulator over loopback: roles, idempotency keys, faults."""

import time

import httpx
import pytest

from billy.integrations.auth_api import get_auth_api
from billy.integrations.auth_api.client import HttpAuthApi
from billy.integrations.auth_api.emulator import AuthEmulator, AuthEmulatorControl
from billy.integrations.auth_api.port import AuthApiRejected, AuthApiUnavailable
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS

TOKEN = "test-auth-token"
# The emulator answers loopback calls in milliseconds; this leaves room for a busy machine, and a
# commit_then_timeout fault hangs past it.
TIMEOUT = 3.0
# A `down` fault long enough for the first call to meet it however slow the machine; then it is over.
DOWN_SECONDS = 2.0
GRANT = {"scope": "cinema", "user_id": "u-1", "role": "subscriber"}


@pytest.fixture(scope="module")
def auth_emulator():
    emulator = AuthEmulator(token=TOKEN).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def control(auth_emulator):
    control = AuthEmulatorControl(auth_emulator.base_url)
    control.reset()
    yield control
    control.close()


@pytest.fixture
def auth(auth_emulator, control) -> HttpAuthApi:
    return HttpAuthApi(auth_emulator.base_url, TOKEN, timeout=TIMEOUT)


def test_grant_gives_the_user_the_role(auth, control):
    auth.grant_role(**GRANT, key="k1")
    assert auth.user_roles(scope="cinema", user_id="u-1") == ["subscriber"]
    assert control.roles("cinema", "u-1") == ["subscriber"]


def test_revoke_takes_the_role_away(auth, control):
    auth.grant_role(**GRANT, key="k1")
    auth.grant_role(scope="cinema", user_id="u-1", role="family", key="k2")
    auth.revoke_role(**GRANT, key="k3")
    assert auth.user_roles(scope="cinema", user_id="u-1") == ["family"]


def test_roles_are_kept_per_scope(auth):
    auth.grant_role(**GRANT, key="k1")
    assert auth.user_roles(scope="music", user_id="u-1") == []


def test_path_segments_are_quoted(auth, control):
    auth.grant_role(scope="cinema", user_id="a/b c?d", role="subscriber", key="k1")
    assert control.roles("cinema", "a/b c?d") == ["subscriber"]


def test_dot_segments_are_refused_before_sending(auth, control):
    with pytest.raises(ValueError):
        auth.grant_role(scope="cinema", user_id="..", role="subscriber", key="k1")
    assert control.requests() == []


def test_same_key_replays_and_applies_once(auth, control):
    auth.grant_role(**GRANT, key="k1")
    auth.grant_role(**GRANT, key="k1")
    assert len(control.effects()) == 1
    assert [r["outcome"] for r in control.requests()] == ["applied", "replayed"]


def test_replay_does_not_undo_a_later_change(auth, control):
    auth.grant_role(**GRANT, key="k1")
    auth.revoke_role(**GRANT, key="k2")
    auth.grant_role(**GRANT, key="k1")
    assert control.roles("cinema", "u-1") == []


def test_same_key_for_another_request_is_a_conflict(auth, control):
    auth.grant_role(**GRANT, key="k1")
    with pytest.raises(AuthApiRejected) as rejected:
        auth.revoke_role(**GRANT, key="k1")
    assert rejected.value.code == "idempotency_conflict"
    assert control.roles("cinema", "u-1") == ["subscriber"]


def test_effects_record_what_was_applied(auth, control):
    auth.grant_role(**GRANT, key="k1")
    auth.revoke_role(**GRANT, key="k2")
    effects = [{k: e[k] for k in ("op", "scope", "user_id", "role", "key")} for e in control.effects(op="revoke")]
    assert effects == [{"op": "revoke", **GRANT, "key": "k2"}]


def test_request_log_records_each_request(auth, control):
    auth.grant_role(**GRANT, key="k1")
    (logged,) = control.requests()
    assert {k: logged[k] for k in ("seq", "method", "scope", "user_id", "role", "key", "status", "outcome")} == {
        "seq": 1,
        "method": "PUT",
        **GRANT,
        "key": "k1",
        "status": 200,
        "outcome": "applied",
    }


def test_503_is_unavailable_and_nothing_is_done(auth, control):
    control.inject("unavailable")
    with pytest.raises(AuthApiUnavailable):
        auth.grant_role(**GRANT, key="k1")
    assert control.effects() == []


def test_500_is_unavailable_and_nothing_is_done(auth, control):
    control.inject("error")
    with pytest.raises(AuthApiUnavailable):
        auth.grant_role(**GRANT, key="k1")
    assert control.effects() == []


def test_a_fault_meets_only_count_requests(auth, control):
    control.inject("unavailable", count=2)
    for _ in range(2):
        with pytest.raises(AuthApiUnavailable):
            auth.grant_role(**GRANT, key="k1")
    auth.grant_role(**GRANT, key="k1")
    assert [r["outcome"] for r in control.requests()] == ["unavailable", "unavailable", "applied"]


def test_delay_within_the_timeout_succeeds(auth, control):
    control.inject("delay", seconds=0.2)
    auth.grant_role(**GRANT, key="k1")
    assert control.roles("cinema", "u-1") == ["subscriber"]


def test_commit_then_timeout_is_unavailable_and_the_retry_applies_once(auth, control):
    control.inject("commit_then_timeout", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    with pytest.raises(AuthApiUnavailable):
        auth.grant_role(**GRANT, key="k1")
    auth.grant_role(**GRANT, key="k1")
    assert len(control.effects()) == 1
    assert [(r["status"], r["outcome"]) for r in control.requests()] == [(None, "applied"), (200, "replayed")]


def test_down_answers_503_until_it_has_lasted(auth, control):
    control.inject("down", seconds=DOWN_SECONDS)
    with pytest.raises(AuthApiUnavailable):
        auth.grant_role(**GRANT, key="k1")
    time.sleep(DOWN_SECONDS + 0.05)  # the window, which began before the call, has passed
    auth.grant_role(**GRANT, key="k1")
    assert [r["outcome"] for r in control.requests()] == ["down", "applied"]


def test_cleared_faults_are_not_met(auth, control):
    control.inject("down", seconds=30)
    control.clear_faults()
    auth.grant_role(**GRANT, key="k1")
    assert control.roles("cinema", "u-1") == ["subscriber"]


def test_bad_token_is_rejected(auth_emulator, control):
    adapter = HttpAuthApi(auth_emulator.base_url, "wrong", timeout=TIMEOUT)
    with pytest.raises(AuthApiRejected) as rejected:
        adapter.grant_role(**GRANT, key="k1")
    assert rejected.value.code == "unauthenticated"
    assert control.effects() == []


def test_missing_idempotency_key_is_a_bad_request(auth_emulator, control):
    response = httpx.put(
        f"{auth_emulator.base_url}/v1/scopes/cinema/users/u-1/roles/subscriber",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "bad_request")


def test_unknown_path_is_not_found(auth_emulator, control):
    response = httpx.get(f"{auth_emulator.base_url}/v1/scopes/cinema", headers={"Authorization": f"Bearer {TOKEN}"})
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_closed_port_is_unavailable(refused_port):
    adapter = HttpAuthApi(f"http://127.0.0.1:{refused_port}", TOKEN, timeout=TIMEOUT)
    with pytest.raises(AuthApiUnavailable):
        adapter.user_roles(scope="cinema", user_id="u-1")


def test_factory_follows_the_settings(auth_emulator, control, settings):
    settings.AUTH_API_URL = auth_emulator.base_url
    settings.AUTH_API_TOKEN = TOKEN
    get_auth_api().grant_role(**GRANT, key="k1")
    assert control.roles("cinema", "u-1") == ["subscriber"]


def test_state_file_keeps_roles_and_effects_across_a_restart(tmp_path):
    state_file = tmp_path / "auth.json"
    first = AuthEmulator(token=TOKEN, state_file=state_file).start()
    HttpAuthApi(first.base_url, TOKEN, timeout=TIMEOUT).grant_role(**GRANT, key="k1")
    first.stop()
    second = AuthEmulator(token=TOKEN, state_file=state_file).start()
    try:
        HttpAuthApi(second.base_url, TOKEN, timeout=TIMEOUT).grant_role(**GRANT, key="k1")  # a replay
        control = AuthEmulatorControl(second.base_url)
        assert (control.roles("cinema", "u-1"), len(control.effects())) == (["subscriber"], 1)
    finally:
        second.stop()
