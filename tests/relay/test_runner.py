"""The relay's stream at start, and its lag line."""

from __future__ import annotations

import dataclasses
import logging
import re

from django.db import DatabaseError, InterfaceError, connection

from billy.relay import publishing, runner
from billy.relay.checking import check_stream
from billy.relay.runner import Relay, RelaySettings
from tests.conftest import wait_for
from tests.relay.conftest import holds_whole_feed, write_events


def relay_through(relay, broker, target, events: int) -> None:
    wait_for(lambda: relay.turn() is not None and holds_whole_feed(broker, target, events))


def test_the_stream_is_created_then_checked_and_takes_a_new_duplicate_window(broker, target):
    created = broker.ensure_stream(target.spec)
    checked = broker.ensure_stream(target.spec)
    updated = broker.ensure_stream(dataclasses.replace(target.spec, duplicate_window_seconds=30))

    assert [created.action, checked.action, updated.action] == ["created", "checked", "updated"]


def test_the_relay_logs_what_it_published_and_how_far_behind_it_is(workspace, broker, target, caplog):
    relay = Relay(broker, RelaySettings(target=target, batch=1000, poll_seconds=0.1, lag_log_seconds=0))
    write_events(workspace.pk, 25)
    caplog.set_level(logging.INFO, logger="billy.relay.runner")
    pattern = rf"relay: (\d+) events published to {target.stream} in the last \d+ s; (\d+) behind the feed"

    def lag_lines() -> list[re.Match]:
        return [re.fullmatch(pattern, r.getMessage()) for r in caplog.records if "behind the feed" in r.getMessage()]

    def published() -> int:
        relay.turn()  # logs a line after every step here
        return sum(int(line[1]) for line in lag_lines())

    wait_for(lambda: published() == 25)

    assert all(lag_lines())
    assert lag_lines()[-1][2] == "0"


def test_a_stream_created_anew_gets_the_feed_from_its_start(workspace, broker, target, caplog):
    relay = Relay(broker, RelaySettings(target=target, batch=1000, poll_seconds=0.1, lag_log_seconds=3600))
    write_events(workspace.pk, 30)
    relay_through(relay, broker, target, 30)

    broker.delete_stream(target.stream)
    caplog.set_level(logging.WARNING, logger="billy.relay.runner")
    write_events(workspace.pk, 5)
    wait_for(lambda: relay.turn() == 1.0)  # no stream takes the subject: retried in a second
    relay_through(relay, broker, target, 35)

    assert check_stream(broker=broker, target=target).stream_messages == 35
    assert f"relay: stream {target.stream} was created anew; it gets the feed again from its start" in caplog.text


def test_a_database_failure_in_the_lag_line_is_waited_out_like_any_other(workspace, broker, target, monkeypatch):
    relay = Relay(broker, RelaySettings(target=target, batch=1000, poll_seconds=0.1, lag_log_seconds=0))
    write_events(workspace.pk, 5)

    def closed(**kwargs):
        raise InterfaceError("connection already closed")  # not a DatabaseError

    monkeypatch.setattr(runner, "relay_lag", closed)
    waits = [relay.turn() for _ in range(2)]
    monkeypatch.undo()
    relay_through(relay, broker, target, 5)

    assert waits == [1.0, 2.0]


def test_a_stream_made_anew_before_the_cursors_were_forgotten_still_gets_the_whole_feed(workspace, broker, target):
    settings = RelaySettings(target=target, batch=1000, poll_seconds=0.1, lag_log_seconds=3600)
    write_events(workspace.pk, 30)
    relay_through(Relay(broker, settings), broker, target, 30)

    # A relay that made the stream anew and was killed (or lost its database) before it forgot its
    # cursors: the one started next finds the stream there.
    broker.delete_stream(target.stream)
    broker.ensure_stream(target.spec)
    write_events(workspace.pk, 5)
    relay_through(Relay(broker, settings), broker, target, 35)

    assert check_stream(broker=broker, target=target).stream_messages == 35


def test_cursors_are_forgotten_with_the_new_stream_stored_or_not_at_all(workspace, broker, target, monkeypatch):
    settings = RelaySettings(target=target, batch=1000, poll_seconds=0.1, lag_log_seconds=3600, stream_check_seconds=0)
    relay = Relay(broker, settings)
    write_events(workspace.pk, 30)
    relay_through(relay, broker, target, 30)
    broker.delete_stream(target.stream)
    forget = publishing.forget_cursors

    def failing(**kwargs):
        forget(**kwargs)
        raise DatabaseError("the server closed the connection unexpectedly")

    monkeypatch.setattr(publishing, "forget_cursors", failing)
    wait_for(lambda: relay.turn() == 1.0)  # the stream is made, the database fails
    monkeypatch.undo()
    relay_through(relay, broker, target, 30)

    assert check_stream(broker=broker, target=target).stream_messages == 30


def test_a_stream_someone_deletes_and_makes_again_while_the_relay_runs_gets_the_whole_feed(workspace, broker, target):
    settings = RelaySettings(target=target, batch=1000, poll_seconds=0.1, lag_log_seconds=3600, stream_check_seconds=0)
    relay = Relay(broker, settings)
    write_events(workspace.pk, 30)
    relay_through(relay, broker, target, 30)

    broker.delete_stream(target.stream)
    broker.ensure_stream(target.spec)
    write_events(workspace.pk, 5)
    relay_through(relay, broker, target, 35)

    assert check_stream(broker=broker, target=target).stream_messages == 35


def test_an_event_bigger_than_nats_takes_stops_the_relay_loudly_and_is_never_skipped(workspace, broker, target, caplog):
    relay = Relay(broker, RelaySettings(target=target, batch=10, poll_seconds=0.1, lag_log_seconds=3600))
    write_events(workspace.pk, 20)
    relay_through(relay, broker, target, 20)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO event (workspace_id, type, version, data, created_at)"
            " VALUES (%s, 'test.event', 1, jsonb_build_object('blob', repeat('x', 2000000)), now()) RETURNING id",
            [workspace.pk],
        )
        big = cursor.fetchone()[0]
    write_events(workspace.pk, 3)
    caplog.set_level(logging.INFO, logger="billy.relay.runner")

    wait_for(lambda: relay.turn() == 1.0)
    waits = [relay.turn() for _ in range(2)]

    assert waits == [2.0, 4.0]  # longer each time: no spinning
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors[-1].startswith(f"relay: event {big} cannot be published (message_too_big: ")
    assert str(big) not in {m.message_id for m in broker.read_stream(target.stream)}
    assert len(broker.read_stream(target.stream)) == 20
