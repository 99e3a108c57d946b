"""NATS going away under the relay: it says so, waits longer each time, publishes nothing out of turn
and moves no cursor; once NATS is back it goes on from where it stopped, skipping nothing."""

from __future__ import annotations

import logging

import pytest

from billy.integrations.broker import get_broker
from billy.relay.models import RelayCursor
from billy.relay.publishing import positions_with_work
from billy.relay.runner import Relay, RelaySettings
from tests.conftest import wait_for
from tests.relay.conftest import NATS_URL, holds_whole_feed, write_events
from tests.relay.proxy import TcpProxy


def published(target) -> int:
    return RelayCursor.objects.filter(stream=target.stream).values_list("published_count", flat=True).first() or 0


@pytest.fixture
def proxy():
    made = TcpProxy(NATS_URL)
    yield made
    made.close()


def test_the_relay_waits_out_a_broker_that_is_down_and_skips_nothing(workspace, broker, target, proxy, caplog):
    relay = Relay(get_broker(proxy.url), RelaySettings(target=target, batch=50, poll_seconds=0.1, lag_log_seconds=3600))
    write_events(workspace.pk, 120)
    caplog.set_level(logging.INFO, logger="billy.relay.runner")
    wait_for(lambda: relay.turn() and published(target) == 120)

    proxy.down()
    write_events(workspace.pk, 80)
    wait_for(lambda: positions_with_work(stream=target.stream))  # work to publish, so each turn tries
    waits = [relay.turn() for _ in range(4)]
    during = published(target)
    proxy.up()
    wait_for(lambda: relay.turn() == 0.1 and holds_whole_feed(broker, target, 200), timeout=120)
    relay.broker.close()

    assert waits == [1.0, 2.0, 4.0, 8.0]
    assert during == 120
    failures = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 4
    assert failures[0].startswith(f"relay: the broker failed (NATS at {proxy.url}")
    assert failures[0].endswith("the same events are published again in 1 s, none is skipped")
    assert any(r.getMessage().startswith("relay: publishing again after") for r in caplog.records)
    assert published(target) == 200
