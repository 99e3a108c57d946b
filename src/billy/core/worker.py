"""`billy worker`: Procrastinate's worker, kept running while PostgreSQL restarts or is briefly down.

Procrastinate (3.10) stops its worker as soon as one of its side tasks fails (the LISTEN connection,
the heartbeat, the periodic deferrer) or a job fetch does: after a database restart it logs a
traceback and "Stop requested", then exits. billy runs it in a loop instead. When the worker stops
without being asked to (SIGINT/SIGTERM), billy logs one line, waits for the database with a backoff
that doubles from 1 s to `BACKOFF_CAP`, logs one line when it answers again, and starts a new worker.

No job is lost on the way. A job that was running when the database went away has finished by the
time the worker stops (Procrastinate waits for it), but its end may not have been written: it is
still `doing`, in the name of the worker that stopped (a worker that cannot write a job's end
stops for that alone). The new worker removes that worker's row
(its heartbeat would otherwise go stale only 30 s later) and runs the stalled-job janitor
(`retry_stalled_jobs`) at once, which puts such jobs back in their queue; tasks are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Iterable

import psycopg
from procrastinate import worker as procrastinate_worker
from procrastinate.contrib.django import app
from procrastinate.contrib.django.utils import connector_params

from billy.core.database import is_connection_failure
from billy.core.job_errors import record_job_error
from billy.core.tasks import retry_stalled_jobs

logger = logging.getLogger(__name__)

# The longest wait between two attempts to reach the database.
BACKOFF_CAP = 10.0
# A worker that ran this long before it stopped is started again without a pause; one that stopped
# sooner (the database flapping, or a failure that is not the database's) after a growing one.
STEADY = 60.0
# How long one attempt to connect may take.
CONNECT_TIMEOUT = 5


def run_worker(*, queues: Iterable[str] | None, concurrency: int, wait: bool) -> None:
    """Run jobs until SIGINT/SIGTERM (or, without `wait`, until no job is left), across database outages."""
    asyncio.run(_Supervised(queues=list(queues) if queues else None, concurrency=concurrency, wait=wait).run())


class _Supervised:
    def __init__(self, *, queues: list[str] | None, concurrency: int, wait: bool) -> None:
        self.queues = queues
        self.concurrency = concurrency
        self.wait = wait
        self.stopping = asyncio.Event()
        self.worker: procrastinate_worker.Worker | None = None
        self.outage = _OutageRecords()

    def stop(self) -> None:
        self.stopping.set()
        if self.worker is not None:
            self.worker.stop()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        # Procrastinate logs a lost connection with a traceback from each side task, and the pool
        # warns at each attempt to reconnect: billy says it once (the lines from here).
        logging.getLogger("procrastinate.utils").addFilter(self.outage)
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        params = connector_params()
        lost: int | None = None  # the worker that stopped with the database, to forget
        lost_at: float | None = None
        pause = 0.0  # before starting again a worker that stopped soon after it started
        while not self.stopping.is_set():
            if pause:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), timeout=pause)
            if not await self._wait_for_database(params, since=lost_at):
                return
            started = time.monotonic()
            self.worker = None
            try:
                # A fresh pool each time: one opened before an outage keeps trying the old connections.
                with app.replace_connector(app.connector.get_worker_connector()):
                    async with app.open_async():
                        if lost is not None:
                            await _forget_worker(lost)
                            lost = None
                        failure = await self._run_worker()
            except Exception as e:
                if not is_connection_failure(e):
                    raise
                failure = e
            if self.stopping.is_set() or (failure is None and not self.wait):
                return
            if self.worker is not None and self.worker.worker_id is not None:
                lost = self.worker.worker_id
            lost_at = time.monotonic()
            pause = 0.0 if lost_at - started >= STEADY else min(BACKOFF_CAP, max(1.0, pause * 2))
            logger.warning("the worker stopped (%s); it starts again once the database answers", _reason(failure))

    async def _run_worker(self) -> BaseException | None:
        """Run one Procrastinate worker until it stops; why it stopped on its own, or None."""
        self.outage.failure = None
        self.worker = _Worker(
            app=app,
            **{
                **app.worker_defaults,
                "queues": self.queues,
                "concurrency": self.concurrency,
                "wait": self.wait,
                "install_signal_handlers": False,  # ours stop this loop too, not only the worker
                # Each failed attempt's error is written down for the admin.
                "worker_middleware": [record_job_error],
            },
        )
        self.worker.outage = self.outage
        if self.outage not in self.worker.logger.filters:
            self.worker.logger.addFilter(self.outage)
        if self.stopping.is_set():
            return None
        try:
            await self.worker.run()
        except Exception as e:
            if not is_connection_failure(e):
                raise
            return self.outage.failure or e
        return self.outage.failure

    async def _wait_for_database(self, params: dict, *, since: float | None) -> bool:
        """Until the database accepts a connection (True) or the worker is asked to stop (False).

        `since`: when the database was lost, if it was; one line says when it answers again."""
        delay = 1.0
        while not self.stopping.is_set():
            try:
                # The URL's own connect_timeout, if it sets one, wins.
                connection = await psycopg.AsyncConnection.connect(
                    **{"connect_timeout": CONNECT_TIMEOUT, **params, "autocommit": True}
                )
            except psycopg.OperationalError as e:
                if since is None:
                    logger.warning("waiting for the database: %s", _first_line(e))
                    since = time.monotonic()
            else:
                await connection.close()
                if since is not None:
                    logger.info("the database answers again after %.0f s; the worker goes on", time.monotonic() - since)
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=delay)
            delay = min(BACKOFF_CAP, delay * 2)
        return False


class _Worker(procrastinate_worker.Worker):
    outage: _OutageRecords

    async def _persist_job_status(self, *args, **kwargs) -> None:
        """Write how a job ended; when the database is gone, stop: the job stays `doing` in this
        worker's name, and the next worker hands it to the janitor (see `_forget_worker`)."""
        try:
            await super()._persist_job_status(*args, **kwargs)
        except Exception as e:
            if not is_connection_failure(e):
                raise
            self.outage.failure = self.outage.failure or e
            self.stop()


async def _forget_worker(worker_id: int) -> None:
    """Hand the jobs left `doing` by a worker that stopped with the database to the janitor, now."""
    await app.job_manager.unregister_worker(worker_id)
    # On the worker's own pool: this is no job's transaction, and Django's connection is sync-only.
    await retry_stalled_jobs.defer_async(timestamp=int(time.time()))


class _OutageRecords(logging.Filter):
    """Drops the log records of a lost database connection, remembering the first one's error."""

    def __init__(self) -> None:
        super().__init__()
        self.failure: BaseException | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None or not is_connection_failure(error):
            return True
        self.failure = self.failure or error
        return False


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _reason(error: BaseException | None) -> str:
    """What the worker stopped on, in one line: the innermost error is the one that says it."""
    if error is None:
        return "a side task stopped"
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {_first_line(error)}"
