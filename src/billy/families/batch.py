"""Plan B: `billy families migrate` moves every family of a workspace (or the families of the
owners in a file) to the identity provider, whatever the experiment says.

A run is stored (`MigrationRun`) with its cursor, the last family it finished in id order, and its
tallies: an interrupted run (Ctrl-C, a crash) is resumed by the same command from its cursor, and
no family is taken twice. Calls to the provider are paced to `rate` a second; a 429 slows the run
down and the same family is tried again (each step is idempotent). A family the provider cannot
serve now is left to the worker (its migration job is deferred) and counted `failed`; a family
another run holds (a lazy migration) is `skipped`, as is one already migrated. It is safe to run
while lazy migrations happen: one run at a time per family. Families are taken `jobs` at a time
(threads, each with its own database connection), all sharing the one pace.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import F

from billy.core import clock
from billy.core.locks import try_session_lock
from billy.integrations.cards.port import CardSystem
from billy.integrations.identity.port import IdentityProvider, IdentityRateLimited
from billy.workspaces.models import Workspace

from .migration import BUSY, MigrationDeferred, migrate_family
from .migration_trigger import request_migration
from .models import Family, FamilyMigration, MigrationRun

PAGE = 200
# The namespace of the per-run session advisory lock (billy.core.locks): "mrun". Two processes
# driving one run would move its cursor past each other's families and count them twice.
RUN_LOCK = 0x6D72756E
MAX_RATE_LIMITED_TRIES = 20


class RunInProgress(Exception):
    """The run is being run by another process (the same command started twice)."""


class Paced:
    """An identity provider whose calls are paced to `rate` a second (a token bucket one call deep),
    so that a batch run stays under the provider's limit however many threads share it."""

    def __init__(self, provider: IdentityProvider, rate: float | None) -> None:
        self._provider = provider
        self._interval = 1.0 / rate if rate else 0.0
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def _wait(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next)
            self._next = at + self._interval
        if at > now:
            time.sleep(at - now)  # pacing calls to the provider's rate, not waiting for an event

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._provider, name)

        def paced(*args: Any, **kwargs: Any) -> Any:
            self._wait()
            return call(*args, **kwargs)

        return paced


def selection_of(owners: list[str] | None) -> str:
    if owners is None:
        return "all"
    return hashlib.sha256("\n".join(sorted(set(owners))).encode()).hexdigest()


def _families(workspace: Workspace, owners: list[str] | None):
    found = Family.objects.filter(workspace=workspace, is_active=True)
    return found if owners is None else found.filter(owner_user_id__in=owners)


@dataclasses.dataclass(frozen=True)
class DryRun:
    total: int
    migrated: int  # DONE already
    partial: int
    to_move: int


def dry_run(*, workspace: Workspace, owners: list[str] | None) -> DryRun:
    """What a run would take, without asking anyone anything."""
    families = _families(workspace, owners)
    total = families.count()
    migrated = families.filter(migration__state=FamilyMigration.State.DONE).count()
    partial = families.filter(migration__state=FamilyMigration.State.PARTIAL).count()
    return DryRun(total=total, migrated=migrated, partial=partial, to_move=total - migrated)


def start_or_resume(*, workspace: Workspace, owners: list[str] | None, now: dt.datetime) -> tuple[MigrationRun, bool]:
    """The unfinished run of this selection (resumed), or a new one. Returns (run, resumed)."""
    selection = selection_of(owners)
    run = MigrationRun.objects.filter(
        workspace=workspace, selection=selection, status=MigrationRun.Status.RUNNING
    ).first()
    if run is not None:
        return run, True
    run = MigrationRun.objects.create(
        workspace=workspace,
        selection=selection,
        owners=None if owners is None else sorted(set(owners)),
        total=_families(workspace, owners).count(),
        started_at=now,
        updated_at=now,
    )
    return run, False


def _one(family_pk: int, identity: IdentityProvider, cards: CardSystem) -> str:
    """The family's move; the tally it counts in."""
    for attempt in range(MAX_RATE_LIMITED_TRIES):
        try:
            state = migrate_family(
                family_pk=family_pk,
                identity=identity,
                cards=cards,
                now=clock.now(),
                source=FamilyMigration.Source.BATCH,
            )
        except MigrationDeferred as e:
            if isinstance(e.__cause__, IdentityRateLimited) and attempt + 1 < MAX_RATE_LIMITED_TRIES:
                time.sleep(min(5.0, 0.2 * 2**attempt))  # the provider asked to slow down: a backoff
                continue
            family = Family.objects.get(pk=family_pk)
            request_migration(family=family, source=FamilyMigration.Source.BATCH, now=clock.now())
            return "failed"
        return {
            FamilyMigration.State.DONE: "done",
            FamilyMigration.State.PARTIAL: "partial",
            BUSY: "skipped",
        }.get(state, "failed")
    return "failed"


def _close_connections(pool: concurrent.futures.ThreadPoolExecutor, workers: int) -> None:
    """Each pool thread closes its own database connection (Django's are per thread): `workers`
    tasks that wait for one another, so that every thread takes exactly one."""
    together = threading.Barrier(workers)

    def close(_: int) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait(timeout=60)
        connections.close_all()

    list(pool.map(close, range(workers)))


def run_batch(
    *,
    run: MigrationRun,
    identity: IdentityProvider,
    cards: CardSystem,
    rate: float | None,
    jobs: int = 4,
    progress: Callable[[MigrationRun], None] = lambda run: None,
    stopping: threading.Event | None = None,
) -> MigrationRun:
    """Take the run's families after its cursor in id order, `jobs` at a time; after each group
    the cursor and the tallies move in one statement, so a resumed run takes no family twice and
    its tallies stay exact. Returns the run, FINISHED when none is left. Once `stopping` is set
    (Ctrl-C) it stops after the group at hand and leaves the run RUNNING at its cursor."""
    with try_session_lock(RUN_LOCK, run.pk) as mine:
        if not mine:
            raise RunInProgress(f"Run #{run.pk} is being run by another process; wait for it, or stop it first.")
        return _run_batch(
            run=run, identity=identity, cards=cards, rate=rate, jobs=jobs, progress=progress, stopping=stopping
        )


def _run_batch(
    *,
    run: MigrationRun,
    identity: IdentityProvider,
    cards: CardSystem,
    rate: float | None,
    jobs: int,
    progress: Callable[[MigrationRun], None],
    stopping: threading.Event | None,
) -> MigrationRun:
    stopping = stopping or threading.Event()
    paced = Paced(identity, rate)
    owners = run.owners

    def one(item: tuple[int, str | None]) -> str:
        family_pk, state = item
        if state == FamilyMigration.State.DONE:
            return "skipped"
        return _one(family_pk, paced, cards)

    workers = max(1, jobs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="migrate") as pool:
        try:
            while True:
                page = list(
                    _families(run.workspace, owners)
                    .filter(pk__gt=run.cursor)
                    .order_by("pk")
                    .values_list("pk", "migration__state")[:PAGE]
                )
                if not page:
                    break
                for start in range(0, len(page), workers):
                    if stopping.is_set():
                        return run
                    group = page[start : start + workers]
                    tallies = Counter(pool.map(one, group))
                    now = clock.now()
                    MigrationRun.objects.filter(pk=run.pk).update(
                        cursor=group[-1][0], updated_at=now, **{t: F(t) + n for t, n in tallies.items()}
                    )
                    run.refresh_from_db()
                    progress(run)
        finally:
            _close_connections(pool, workers)
    now = clock.now()
    MigrationRun.objects.filter(pk=run.pk).update(status=MigrationRun.Status.FINISHED, finished_at=now, updated_at=now)
    run.refresh_from_db()
    return run
