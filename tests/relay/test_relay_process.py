"""`billy relay` as a process: killed outright (SIGKILL) while publishing and started again, it
leaves every event of the feed in the stream exactly once, in feed order per workspace."""

from __future__ import annotations

import subprocess

from django.db.models import Sum

from billy.relay.checking import check_stream
from billy.relay.models import RelayCursor
from tests.conftest import billy_process, make_workspace, wait_for
from tests.relay.conftest import relay_env, write_events

PER_WORKSPACE = 8000


def published() -> int:
    return RelayCursor.objects.aggregate(n=Sum("published_count"))["n"] or 0


def start_relay(target) -> subprocess.Popen:
    # Small batches: the relay is still publishing when it is killed.
    env = relay_env(target, BILLY_RELAY_BATCH="50", BILLY_LOG_LEVEL="WARNING")
    return billy_process("relay", env=env, stdout=subprocess.DEVNULL)


def test_a_relay_killed_while_publishing_leaves_every_event_once_in_feed_order(workspace, broker, target):
    other = make_workspace("realty", balance_service_id=81)
    write_events(workspace.pk, PER_WORKSPACE)
    write_events(other.pk, PER_WORKSPACE)
    total = 2 * PER_WORKSPACE

    kills = []
    for threshold in (total // 8, total // 2):
        relay = start_relay(target)
        try:
            wait_for(lambda r=relay, n=threshold: published() >= n or r.poll() is not None, timeout=180)
            assert relay.poll() is None, f"the relay exited with {relay.returncode}"
            relay.kill()  # SIGKILL: no chance to finish its batch or move its cursor
            relay.wait(timeout=60)
            kills.append(published())
        finally:
            if relay.poll() is None:
                relay.kill()
                relay.wait()

    relay = start_relay(target)
    try:
        wait_for(lambda: published() >= total, timeout=300)
    finally:
        relay.terminate()
        relay.wait(timeout=60)

    assert all(n < total for n in kills), f"killed while publishing: {kills} of {total}"
    check = check_stream(broker=broker, target=target)
    assert check.summary() == (
        f"{total} messages in the stream for {total} events in the feed: each exactly once, in feed order per workspace"
    )
    assert relay.returncode == 0, "SIGTERM stops the relay cleanly"


def test_the_relay_refuses_a_stream_that_takes_other_subjects(workspace, broker, target):
    broker.ensure_stream(type(target.spec)(name=target.stream, subjects=("elsewhere.>",), duplicate_window_seconds=60))

    relay = billy_process("relay", env=relay_env(target), stderr=subprocess.PIPE, text=True)
    _, err = relay.communicate(timeout=120)

    assert relay.returncode == 1
    subjects = f"['elsewhere.>'], not ['{target.subject_prefix}.>']"
    assert f"billy: broker_refused: stream {target.stream} takes subjects {subjects}" in err


def test_the_relay_without_a_broker_url_says_so(workspace):
    relay = billy_process("relay", env={"BILLY_BROKER_URL": ""}, stderr=subprocess.PIPE, text=True)
    _, err = relay.communicate(timeout=120)

    assert relay.returncode == 1
    assert err.strip().endswith(
        "billy: broker_not_configured: Set BILLY_BROKER_URL (e.g. nats://127.0.0.1:4222) to run the relay."
    )
