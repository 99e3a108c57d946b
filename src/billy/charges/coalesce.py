"""A hot wallet beyond one charge per commit: charges of one wallet that arrive while one of its
charges is being written are written together, in the next transaction.

Concurrent charges of one wallet queue on its row lock, each through its own commit (and its WAL
flush). Here a charge of a wallet that no thread of this process is writing is written at once, by
its own thread, in one statement (`write_prepared_charge`). Charges that arrive for the wallet
meanwhile wait in the wallet's line; when the write ends, the first of them leads the next group:
it writes every charge then waiting (up to `MAX_GROUP`) in one transaction, as the batch does
(`billy.charges.batch.write_group`): the wallet is locked once, each charge is decided in arrival
order against the money left, and each accepted one gets its own charge row, ledger transaction,
entries and event. Every charge gets its own answer, the one the single statement would give:
201, 200 for a repeat of its `charge_id`, or its own refusal (`insufficient_funds`,
`idempotency_conflict`).

Crash safety. A group is one database transaction: it commits whole or not at all. The charges of a
group are all requests of this process (the line is a process's own), so a process that dies takes
its waiting requests with it: their connections drop, and each retry (by `charge_id`, or its
Idempotency-Key) finds its charge written or not, never half. A group that fails (the database went
away) fails every request in it with that error (a retryable 503), and nothing of it is written;
except when the connection is lost after the group's statement committed, before its answer came:
then the charges exist, and a retry by `charge_id` answers each as a repeat.

Across processes (gunicorn's workers), charges of one wallet still queue on its row lock, a group
per process at a time: coalescing is limited to one process's threads, which needs no state beyond
the transaction (no queue table, no leader to elect and recover).

Only charges outside any transaction are coalesced (a caller's own transaction must own its charge),
and only when the wallet's currency is its workspace's (as the batch's set-based path requires).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from billy.clients.models import Client

from . import batch
from .models import Charge
from .operations import ChargeRequest, PreparedCharge, prepare_charge, write_prepared_charge

MAX_GROUP = batch.MAX_ITEMS


@dataclass(eq=False)
class _Waiting:
    prepared: PreparedCharge
    done: bool = False
    lead: bool = False  # asked to write the next group
    outcome: tuple[Charge, bool] | None = None
    error: BaseException | None = None


@dataclass(eq=False)
class _Line:
    """The charges of one wallet waiting for the write in progress to end."""

    cond: threading.Condition
    waiting: list[_Waiting] = field(default_factory=list)
    busy: bool = False


_lock = threading.Lock()
_lines: dict[int, _Line] = {}


def post_charge(*, client: Client, request: ChargeRequest, now) -> tuple[Charge, bool]:
    """`billy.charges.operations.post_charge`, coalesced with the other charges of the wallet that
    arrive while one is written (see the module). Same answers, same errors."""
    prepared = prepare_charge(client=client, request=request, now=now)
    if (
        not settings.BILLY_CHARGE_COALESCING
        or connection.in_atomic_block
        or prepared.wallet_currency != client.workspace.currency
    ):
        return write_prepared_charge(prepared)
    me = _Waiting(prepared)
    with _lock:
        line = _lines.get(prepared.wallet_id)
        if line is None:
            line = _lines[prepared.wallet_id] = _Line(threading.Condition(_lock))
        line.waiting.append(me)
        while line.busy and not me.done and not me.lead:
            line.cond.wait()
        group = []
        if not me.done:  # this thread leads: its own charge and every one waiting behind it
            line.busy = True
            group = line.waiting[:MAX_GROUP]
            del line.waiting[: len(group)]
    if group:
        _write(line, prepared.wallet_id, group)
    if me.error is not None:
        raise me.error
    assert me.outcome is not None
    return me.outcome


def _write(line: _Line, wallet_id: int, group: list[_Waiting]) -> None:
    """Write `group` (this thread's own charge first), answer each, and hand the line on."""
    try:
        if len(group) == 1:  # its error, if any, is this thread's own
            group[0].outcome = write_prepared_charge(group[0].prepared)
        else:
            for waiting, (outcome, error) in zip(group, batch.write_group([w.prepared for w in group]), strict=True):
                waiting.outcome, waiting.error = outcome, error
    except BaseException as e:  # the group's transaction failed: nothing of it is written (or it was alone)
        for waiting in group:
            waiting.error = e
        raise
    finally:
        with _lock:
            for waiting in group:
                waiting.done = True
            if line.waiting:
                line.waiting[0].lead = True
            else:
                line.busy = False
                if _lines.get(wallet_id) is line:
                    del _lines[wallet_id]
            line.cond.notify_all()
