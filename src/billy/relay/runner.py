"""`billy relay`: the loop around relay_step, with its waits, its retries and its log lines.

When the broker or the database fails, the relay says so in one line, waits (1 s, doubling up to
30 s) and tries the same batch again: it never skips an event. Once they answer again it says so,
checks the stream again (it may have been deleted meanwhile) and goes on. Every
BILLY_RELAY_LAG_LOG_SECONDS it logs how much it published and how far behind the feed it is.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

# django.db.Error: DatabaseError and InterfaceError (a connection already closed) alike.
from django.db import Error as DbError
from django.db import connection

from billy.core import clock
from billy.integrations.broker import Broker, BrokerError, BrokerRefused, MessageTooBig

from .publishing import RelayTarget, adopt_stream, relay_step
from .queries import relay_lag

logger = logging.getLogger(__name__)
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0


class StreamRefused(Exception):
    """The broker refuses the stream as configured: nothing the relay can fix by waiting."""


@dataclass(frozen=True)
class RelaySettings:
    target: RelayTarget
    batch: int
    poll_seconds: float
    lag_log_seconds: float
    # How often a relay that publishes without failing checks the stream again all the same (someone
    # may have deleted it and made it again: its cursors must then be forgotten).
    stream_check_seconds: float = 60.0


def run_relay(*, broker: Broker, config: RelaySettings, stop: threading.Event) -> None:
    """Publish the feed until `stop` is set. Raises StreamRefused when the stream cannot be used."""
    relay = Relay(broker, config)
    while not stop.is_set():
        wait = relay.turn()
        if wait:
            stop.wait(wait)


class Relay:
    def __init__(self, broker: Broker, config: RelaySettings) -> None:
        self.broker, self.config = broker, config
        self.stream_ready = False
        self.stream_checked = 0.0
        self.failing_since: float | None = None
        self.retry = FIRST_RETRY_SECONDS
        self.published = 0
        self.last_log = time.monotonic()

    def turn(self) -> float:
        """One step; how long to wait before the next one."""
        try:
            if not self.stream_ready or time.monotonic() - self.stream_checked >= self.config.stream_check_seconds:
                self._ensure_stream()
            published = relay_step(
                broker=self.broker, target=self.config.target, limit=self.config.batch, now=clock.now()
            )
            self.published += published
            self._log_lag()
        except (BrokerError, DbError) as e:
            return self._failed(e)
        if self.failing_since is not None:
            logger.info("relay: publishing again after %.0f s", time.monotonic() - self.failing_since)
            self.failing_since, self.retry = None, FIRST_RETRY_SECONDS
        return 0 if published else self.config.poll_seconds

    def _ensure_stream(self) -> None:
        target = self.config.target
        try:
            state = self.broker.ensure_stream(target.spec)
        except BrokerRefused as e:
            raise StreamRefused(str(e)) from e
        if not self.stream_ready:
            logger.info(
                "relay: stream %s %s (subjects %s.>, duplicate window %g s, %d messages)",
                state.name,
                state.action,
                target.subject_prefix,
                target.duplicate_window_seconds,
                state.messages,
            )
        # Before any publish: a stream other than the one the cursors were moved against (made
        # anew, here or by someone else, even if this relay died before it could say so) gets the
        # feed from its start.
        if adopt_stream(stream=target.stream, identity=state.identity, now=clock.now()):
            logger.warning("relay: stream %s was created anew; it gets the feed again from its start", state.name)
        self.stream_ready, self.stream_checked = True, time.monotonic()

    def _failed(self, error: Exception) -> float:
        if isinstance(error, MessageTooBig):
            # Never skipped: the relay stops here, says why each time, until the limit is raised.
            logger.error(
                "relay: event %s cannot be published (message_too_big: %d bytes, NATS takes at most %d); "
                "raise max_payload in the NATS server's configuration: nothing after it is published until "
                "then, tried again in %g s",
                error.message_id,
                error.size,
                error.limit,
                self.retry,
            )
        else:
            what = "the database" if isinstance(error, DbError) else "the broker"
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            logger.warning(
                "relay: %s failed (%s); the same events are published again in %g s, none is skipped",
                what,
                first_line,
                self.retry,
            )
        if isinstance(error, DbError):
            connection.close()  # the next step opens a new one (the database may have restarted)
        # The stream is checked again before the next publish: it may be gone (a refused publish).
        self.stream_ready = False
        self.stream_checked = 0.0
        if self.failing_since is None:
            self.failing_since = time.monotonic()
        wait, self.retry = self.retry, min(self.retry * 2, MAX_RETRY_SECONDS)
        return wait

    def _log_lag(self) -> None:
        elapsed = time.monotonic() - self.last_log
        if elapsed < self.config.lag_log_seconds:
            return
        lag = relay_lag(stream=self.config.target.stream)
        behind = sum(row.behind for row in lag)
        oldest = min((row.oldest_unpublished_at for row in lag if row.oldest_unpublished_at), default=None)
        logger.info(
            "relay: %d events published to %s in the last %.0f s; %d behind the feed%s",
            self.published,
            self.config.target.stream,
            elapsed,
            behind,
            f", the oldest written {(clock.now() - oldest).total_seconds():.0f} s ago" if oldest else "",
        )
        self.published, self.last_log = 0, time.monotonic()
