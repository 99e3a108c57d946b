"""The fault run's relay side: `billy dev` publishes the feed to NATS JetStream while the run goes
on, and the relay is killed outright (SIGKILL) at times drawn from `random.Random(f"{seed}:relay")`
(billy dev starts it again; PostgreSQL restarts and the other faults hit it too).

Each run gets a stream and subjects of its own on the machine's NATS (`relay_env`), deleted when the
run ends. The check, once nothing is pending: `billy relay --check` (the relay's own comparison of
the stream with the feed) says the stream holds every event of the feed exactly once (by message
id), in feed order per workspace, under its workspace's subject.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATS_URL = os.environ.get("BILLY_CHAOS_NATS_URL", "nats://127.0.0.1:4222")
# How long the relay gets to publish what the settled run left, before the check fails.
CATCH_UP_SECONDS = 240
BANNER = re.compile(r"^  relay +the event feed to (\S+), stream (\S+) \(subjects ([^<]+)\.<workspace>", re.M)


def relay_env() -> dict[str, str]:
    """`billy dev`'s relay settings for one run: the machine's NATS, a stream of the run's own."""
    tag = uuid.uuid4().hex[:12]
    return {
        "BILLY_BROKER_URL": NATS_URL,
        "BILLY_BROKER_STREAM": f"CHAOS_{tag}",
        "BILLY_BROKER_SUBJECT_PREFIX": f"chaos{tag}",
        # Small batches: a kill lands between a batch's acknowledgement and its cursor's move more often.
        "BILLY_RELAY_BATCH": "50",
        "BILLY_RELAY_LAG_LOG_SECONDS": "15",
    }


def _target(output: str) -> dict[str, str]:
    """The relay's broker, stream and subject prefix, from `billy dev`'s banner."""
    found = BANNER.search(output)
    if found is None:
        raise RuntimeError("billy dev's banner has no relay line")
    url, stream, prefix = found.groups()
    return {"BILLY_BROKER_URL": url, "BILLY_BROKER_STREAM": stream, "BILLY_BROKER_SUBJECT_PREFIX": prefix}


class RelayKiller(threading.Thread):
    """Kills `billy dev`'s relay at the seed's times within the run."""

    def __init__(self, billy, *, seed: int, seconds: float, stop: threading.Event) -> None:
        super().__init__(daemon=True, name="relay-killer")
        rng = random.Random(f"{seed}:relay")
        self.billy, self.stop = billy, stop
        self.times = sorted(rng.uniform(0.05, 0.95) * seconds for _ in range(max(2, round(seconds / 20))))
        self.kills: list[float] = []
        self.started = time.monotonic()

    def run(self) -> None:
        for at in self.times:
            if self.stop.wait(max(0.0, self.started + at - time.monotonic())):
                return
            if self.billy.kill(self.billy.child("relay")):
                self.kills.append(at)


def check_relay(billy, killer: RelayKiller) -> tuple[list[str], list[str]]:
    """(findings, figures): the stream against the feed, once the relay has caught up."""
    env = {**os.environ, "DATABASE_URL": billy.env["database"], **_target(billy.output()), "BILLY_LOG_LEVEL": "WARNING"}
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while True:
        checked = subprocess.run(
            [sys.executable, "-m", "billy", "relay", "--check"],
            check=False,
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        summary = (checked.stdout.strip() or checked.stderr.strip()).splitlines()[-1:] or ["no answer"]
        if checked.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(2)  # the relay publishes what is left meanwhile
    kills = ", ".join(f"{t:.0f}s" for t in killer.kills) or "none"
    figures = [f"stream {env['BILLY_BROKER_STREAM']}: {summary[0]}", f"relay killed {len(killer.kills)} times: {kills}"]
    findings = [] if checked.returncode == 0 else [f"relay: {summary[0]}"]
    return findings, figures


def drop_stream(billy) -> None:
    """Delete the run's stream (nothing when billy dev never printed its banner)."""
    try:
        target = _target(billy.output())
    except (OSError, RuntimeError):
        return
    from billy.integrations.broker.client import NatsBroker

    broker = NatsBroker(target["BILLY_BROKER_URL"])
    try:
        broker.delete_stream(target["BILLY_BROKER_STREAM"])
    finally:
        broker.close()
