"""The task queue (Procrastinate in PostgreSQL): the one `defer` helper and shared retry policy.

`defer` always writes the job through Django's own database connection, so a job deferred inside
`transaction.atomic()` commits or rolls back with the state change that needs it (the outbox).
Procrastinate's worker swaps the app's connector for its own pool, so `task.defer()` called inside a
running job would escape the job's transaction; going through `defer` here never does.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import attr
from django.conf import settings
from django.db import close_old_connections
from procrastinate import RetryStrategy, manager
from procrastinate import tasks as procrastinate_tasks
from procrastinate.contrib.django import app
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.jobs import Job
from procrastinate.retry import RetryDecision

from billy.core.database import is_connection_failure
from billy.core.locks import try_session_lock

logger = logging.getLogger(__name__)


@attr.dataclass(kw_only=True)
class CappedBackoff(RetryStrategy):
    """Exponential backoff (base ** attempt seconds) capped at `cap` seconds, forever by default.

    `give_up_on` lists exceptions that retrying cannot fix: the job fails at once and shows in
    the admin's failed jobs, where an operator can retry it. With `only_when`, only exceptions it
    accepts are retried.
    """

    base: int = 2
    cap: int = 300
    give_up_on: tuple[type[BaseException], ...] = ()
    only_when: Callable[[BaseException], bool] | None = None

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, self.give_up_on):
            return None
        if self.only_when is not None and not self.only_when(exception):
            return None
        if self.max_attempts and job.attempts >= self.max_attempts:
            return None
        wait = min(self.cap, self.base ** (job.attempts + 1))
        # Procrastinate tells of a retry only at INFO, which billy keeps quiet: this is its one line.
        logger.warning(
            "job %s (%s) failed, retrying in %s s: %s: %s",
            job.id,
            job.task_name,
            wait,
            type(exception).__name__,
            exception,
        )
        return RetryDecision(retry_in={"seconds": wait})


# A periodic janitor's run that lost the database (a restart) runs again a few seconds later, and
# at most twice more: the next minute's run would do the work anyway, but a run that failed for
# good shows in the admin's failed jobs as if something needed an operator. Any other error fails
# the run at once.
JANITOR_RETRY = CappedBackoff(base=3, cap=20, max_attempts=3, only_when=is_connection_failure)


def defer(
    task_name: str,
    *,
    schedule_in: dict[str, Any] | None = None,
    lock: str | None = None,
    queueing_lock: str | None = None,
    **kwargs: Any,
) -> int:
    """Defer the task registered as `task_name` with `kwargs` on Django's connection (inside the
    caller's transaction).

    Tasks are named, not imported: a domain module defers its app's jobs without importing the
    `tasks` module that imports it. Jobs deferred with the same `lock` run one at a time, in the order
    they were deferred; with a `queueing_lock`, at most one job waits in the queue under it (another
    defer raises procrastinate's AlreadyEnqueued, which aborts the caller's transaction unless it was
    made in a savepoint). Raises LookupError for a name no task is registered under."""
    try:
        task = app.tasks[task_name]
    except KeyError:
        raise LookupError(f"No task is registered as {task_name!r}.") from None
    deferrer = procrastinate_tasks.configure_task(
        name=task.name,
        job_manager=manager.JobManager(DjangoConnector()),
        lock=lock or task.lock,
        queueing_lock=queueing_lock or task.queueing_lock,
        queue=task.queue,
        priority=task.priority,
        schedule_in=schedule_in,
        task_kwargs=kwargs,
    )
    return deferrer.defer()


def retry_failed_job(*, job_id: int, now) -> None:
    """Put a failed job back in its queue to run at once (the admin's "retry")."""
    manager.JobManager(DjangoConnector()).retry_job_by_id(job_id=job_id, retry_at=now)


@app.periodic(cron="* * * * *", periodic_id="retry_stalled_jobs")
@app.task(queue="janitor", pass_context=True, name="billy.retry_stalled_jobs", retry=JANITOR_RETRY)
async def retry_stalled_jobs(context, timestamp: int) -> int:
    """Janitor: put back jobs left `doing` by a worker that stopped sending heartbeats.

    A stalled job goes back without its queueing lock: another job deferred under that lock may be
    waiting already, and at most one job waits under a queueing lock (a unique index says so). Both
    then run, one at a time when they share a `lock`; jobs are idempotent, so the later one finds its
    work done. One job that cannot be put back does not keep the others from going back."""
    job_manager = context.app.job_manager
    stalled = list(await job_manager.get_stalled_jobs())
    failure: Exception | None = None
    for job in stalled:
        logger.warning("retrying job %s (%s) of a worker that died", job.id, job.task_name)
        try:
            if job.queueing_lock is not None:
                await job_manager.connector.execute_query_async(_DROP_QUEUEING_LOCK, job_id=job.id)
            await job_manager.retry_job(job)
        except Exception as e:
            if is_connection_failure(e):
                raise
            logger.exception("job %s (%s) of a worker that died could not be put back", job.id, job.task_name)
            failure = failure or e
    if failure is not None:
        raise failure
    return len(stalled)


_DROP_QUEUEING_LOCK = "UPDATE procrastinate_jobs SET queueing_lock = NULL WHERE id = %(job_id)s AND status = 'doing'"


def db_task(func):
    """Give a sync job fresh Django connections, as the request cycle does for a view."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper


# The namespace of janitor runs' session advisory locks (billy.core.locks); the key is the task's name.
JANITOR_LOCK = 0x6A616E69  # "jani"


def janitor(*, name: str, cron: str, periodic_id: str, queue: str = "janitor"):
    """A periodic janitor task: run by `cron` (missed runs caught up), retried as JANITOR_RETRY says.

    Runs of one janitor never overlap: a run that finds the previous one still at work returns None at
    once, so slow runs (an upstream that answers slowly) cannot pile up and take every worker slot from
    the jobs that move money. The guard is a session advisory lock, which PostgreSQL frees when the
    worker holding it dies. Each run gets `until`, a time.monotonic() deadline
    (BILLY_JANITOR_RUN_SECONDS from its start) after which it should stop taking new work and leave
    the rest to the next run.
    """

    def decorate(func: Callable[..., Any]):
        @functools.wraps(func)
        def run(timestamp: int) -> Any:
            with try_session_lock(JANITOR_LOCK, name) as mine:
                if not mine:
                    logger.info("janitor %s: the previous run is still at work; this one stands down", name)
                    return None
                return func(timestamp, until=time.monotonic() + settings.BILLY_JANITOR_RUN_SECONDS)

        task = app.task(name=name, queue=queue, retry=JANITOR_RETRY)(db_task(run))
        return app.periodic(cron=cron, periodic_id=periodic_id)(task)

    return decorate
