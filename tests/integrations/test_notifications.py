"""The notification service adapter against its emulator over loopback: the outbox, keys, faults."""

import time

import httpx
import pytest

from billy.integrations.notifications import get_notifier
from billy.integrations.notifications.client import HttpNotifier
from billy.integrations.notifications.emulator import NotificationsEmulator, NotificationsEmulatorControl
from billy.integrations.notifications.port import NotificationRejected, NotificationsUnavailable
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS

TOKEN = "test-notifications-token"
# The emulator answers loopback calls in milliseconds; this leaves room for a busy machine, and a
# commit_then_timeout fault hangs past it.
TIMEOUT = 3.0
# A `down` fault long enough for the first call to meet it however slow the machine; then it is over.
DOWN_SECONDS = 2.0
MESSAGE = {
    "scope": "cinema",
    "user_id": "u-1",
    "template": "subscription_started",
    "params": {"plan": "Plus", "until": "2026-12-23"},
}


@pytest.fixture(scope="module")
def notifications_emulator():
    emulator = NotificationsEmulator(token=TOKEN).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def control(notifications_emulator):
    control = NotificationsEmulatorControl(notifications_emulator.base_url)
    control.reset()
    yield control
    control.close()


@pytest.fixture
def notifier(notifications_emulator, control) -> HttpNotifier:
    return HttpNotifier(notifications_emulator.base_url, TOKEN, timeout=TIMEOUT)


def test_send_keeps_the_notification(notifier, control):
    notifier.send(key="n1", **MESSAGE)
    (kept,) = control.notifications()
    assert {k: kept[k] for k in ("key", *MESSAGE)} == {"key": "n1", **MESSAGE}


def test_same_key_again_keeps_one_notification(notifier, control):
    notifier.send(key="n1", **MESSAGE)
    notifier.send(key="n1", **MESSAGE)
    assert len(control.notifications()) == 1
    assert [(r["status"], r["outcome"]) for r in control.requests()] == [(201, "applied"), (200, "replayed")]


def test_same_key_with_another_body_is_rejected(notifier, control):
    notifier.send(key="n1", **MESSAGE)
    with pytest.raises(NotificationRejected) as rejected:
        notifier.send(key="n1", **{**MESSAGE, "params": {"plan": "Max", "until": "2026-12-23"}})
    assert rejected.value.code == "idempotency_conflict"
    assert control.notifications()[0]["params"]["plan"] == "Plus"


def test_invalid_notification_is_rejected(notifier, control):
    with pytest.raises(NotificationRejected) as rejected:
        notifier.send(key="n1", **{**MESSAGE, "template": ""})
    assert rejected.value.code == "bad_request"
    assert control.notifications() == []


def test_api_lists_a_users_notifications(notifier, notifications_emulator, control):
    notifier.send(key="n1", **MESSAGE)
    notifier.send(key="n2", **{**MESSAGE, "user_id": "u-2"})
    response = httpx.get(
        f"{notifications_emulator.base_url}/v1/notifications",
        params={"scope": "cinema", "user_id": "u-2"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert [n["key"] for n in response.json()["notifications"]] == ["n2"]


def test_control_filters_by_template(notifier, control):
    notifier.send(key="n1", **MESSAGE)
    notifier.send(key="n2", **{**MESSAGE, "template": "subscription_ended"})
    assert [n["key"] for n in control.notifications(user_id="u-1", template="subscription_ended")] == ["n2"]


def test_outbox_page_lists_notifications_newest_first(notifier, notifications_emulator, control):
    notifier.send(key="n1", **MESSAGE)
    notifier.send(key="n2", **{**MESSAGE, "template": "<b>payment_failed</b>"})
    page = httpx.get(notifications_emulator.base_url + "/").text
    assert page.index("&lt;b&gt;payment_failed&lt;/b&gt;") < page.index("subscription_started")


def test_503_is_unavailable_and_nothing_is_kept(notifier, control):
    control.inject("unavailable")
    with pytest.raises(NotificationsUnavailable):
        notifier.send(key="n1", **MESSAGE)
    assert control.notifications() == []


def test_500_is_unavailable_and_nothing_is_kept(notifier, control):
    control.inject("error")
    with pytest.raises(NotificationsUnavailable):
        notifier.send(key="n1", **MESSAGE)
    assert control.notifications() == []


def test_delay_within_the_timeout_succeeds(notifier, control):
    control.inject("delay", seconds=0.2)
    notifier.send(key="n1", **MESSAGE)
    assert len(control.notifications()) == 1


def test_commit_then_timeout_is_unavailable_and_the_retry_keeps_one(notifier, control):
    control.inject("commit_then_timeout", seconds=COMMIT_THEN_TIMEOUT_SECONDS)
    with pytest.raises(NotificationsUnavailable):
        notifier.send(key="n1", **MESSAGE)
    notifier.send(key="n1", **MESSAGE)
    assert len(control.notifications()) == 1
    assert [r["outcome"] for r in control.requests()] == ["applied", "replayed"]


def test_down_answers_503_until_it_has_lasted(notifier, control):
    control.inject("down", seconds=DOWN_SECONDS)
    with pytest.raises(NotificationsUnavailable):
        notifier.send(key="n1", **MESSAGE)
    time.sleep(DOWN_SECONDS + 0.05)  # the window, which began before the call, has passed
    notifier.send(key="n1", **MESSAGE)
    assert [r["outcome"] for r in control.requests()] == ["down", "applied"]


def test_bad_token_is_rejected(notifications_emulator, control):
    notifier = HttpNotifier(notifications_emulator.base_url, "wrong", timeout=TIMEOUT)
    with pytest.raises(NotificationRejected) as rejected:
        notifier.send(key="n1", **MESSAGE)
    assert rejected.value.code == "unauthenticated"


def test_closed_port_is_unavailable(refused_port):
    notifier = HttpNotifier(f"http://127.0.0.1:{refused_port}", TOKEN, timeout=TIMEOUT)
    with pytest.raises(NotificationsUnavailable):
        notifier.send(key="n1", **MESSAGE)


def test_factory_follows_the_settings(notifications_emulator, control, settings):
    settings.NOTIFICATIONS_URL = notifications_emulator.base_url
    settings.NOTIFICATIONS_TOKEN = TOKEN
    get_notifier().send(key="n1", **MESSAGE)
    assert [n["key"] for n in control.notifications()] == ["n1"]


def test_state_file_keeps_notifications_across_a_restart(tmp_path):
    state_file = tmp_path / "notifications.json"
    first = NotificationsEmulator(token=TOKEN, state_file=state_file).start()
    HttpNotifier(first.base_url, TOKEN, timeout=TIMEOUT).send(key="n1", **MESSAGE)
    first.stop()
    second = NotificationsEmulator(token=TOKEN, state_file=state_file).start()
    try:
        assert [n["key"] for n in NotificationsEmulatorControl(second.base_url).notifications()] == ["n1"]
    finally:
        second.stop()
