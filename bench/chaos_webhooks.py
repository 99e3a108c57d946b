"""The fault run's webhook side: endpoints billy delivers the feed to, the receiver behind them, and
the checks of what it received.

Before the actors start, the run registers ENDPOINTS through billy's HTTP API (each with its
`Idempotency-Key`), all pointing at one receiver on a loopback socket in this process, and keeps
each endpoint's starting position in the feed. The receiver verifies every request's
`Billy-Signature` with the README's own helper and the secrets it was given, stores it (event id,
type, signature timestamp, which secrets verify it), then answers. On purpose, for stretches of an
endpoint's requests drawn from `random.Random(f"{seed}:webhooks:{endpoint}")`, it answers 500 or
503, drops the connection without an answer, or answers slowly (sometimes past billy's timeout, so
billy sends again a request the receiver stored: a duplicate). The stretches go by requests, not by
the clock, so they meet billy's deliveries however far behind the feed they run, through the run
and the catch-up after it. Midway, at a time drawn from `random.Random(f"{seed}:webhooks")`, every
endpoint's secret is rotated through the API with a short overlap; the receiver then knows both.

The checks, once nothing is pending: for each endpoint, the events of the feed after its starting
position that match its types were each received at least once, and after dedup by event id
exactly once, in feed order, and nothing else; every request carried a signature that verifies,
headers that agree with the body; none was signed with the old secret after the overlap, each one
signed after the rotation's answer carried the new one; no delivery was given up.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import threading
import time
import uuid
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
from chaos_ops import C2B, CINEMA

from billy.core.pagination import decode_cursor, encode_cursor

ROOT = Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class EndpointSpec:
    name: str
    workspace: str
    event_types: tuple[str, ...]  # empty: every type


ENDPOINTS = (
    EndpointSpec("c2b-all", C2B, ()),
    # Few of c2b's events: its deliveries walk past many it does not want.
    EndpointSpec("c2b-refunds", C2B, ("charge.refunded", "wallet.adjusted")),
    EndpointSpec("cinema", CINEMA, ("subscription.payment_succeeded", "subscription.refund_succeeded")),
)
# The settings billy runs with in the fault run: a short timeout (slow answers past it are retried)
# and a short retry schedule (0.5 s doubling up to 2 s), so deliveries catch up soon after an outage.
BILLY_SETTINGS = {
    "BILLY_WEBHOOK_TIMEOUT": "3",
    "BILLY_WEBHOOK_RETRY_FIRST_SECONDS": "0.5",
    "BILLY_WEBHOOK_RETRY_MAX_SECONDS": "2",
}
# Each request an endpoint gets starts a stretch of receiver faults with this chance (when none is
# under way); a stretch is the endpoint's next 2 to 6 requests. billy sends an endpoint one request
# at a time, so a stretch is an outage of the receiver as long as billy's retries take to get past it.
STRETCH_CHANCE = 1 / 400
STRETCH_REQUESTS = (2, 6)
SLOW_SECONDS = (0.5, 5.0)  # how long a slow answer takes: past billy's 3 s timeout now and then
MODES = ("error", "unavailable", "drop", "slow")
ROTATION_OVERLAP_SECONDS = 10
# How long the rotation keeps asking when its call meets an outage.
ROTATION_PATIENCE_SECONDS = 240


@dataclasses.dataclass(frozen=True)
class Stretch:
    endpoint: str
    first: int  # the index of its first request among the endpoint's requests (from 0)
    requests: int
    mode: str  # error | unavailable | drop | slow
    delay: float = 0.0  # slow: how long each answer takes

    def __str__(self) -> str:
        slow = f" {self.delay:.1f} s" if self.mode == "slow" else ""
        return f"{self.mode}{slow} x{self.requests} from #{self.first}"


class Faults:
    """An endpoint's receiver faults, drawn request by request from `random.Random(f"{seed}:webhooks:{name}")`:
    the same seed gives the same faults at the same requests of the endpoint."""

    def __init__(self, seed: int, endpoint: str) -> None:
        self.endpoint = endpoint
        self.rng = random.Random(f"{seed}:webhooks:{endpoint}")
        self.count = 0
        self.current: Stretch | None = None
        self.stretches: list[Stretch] = []

    def next(self) -> tuple[str, float]:
        """The mode (ok, or the stretch's) and the delay of the endpoint's next request."""
        index, self.count = self.count, self.count + 1
        if self.current is not None and index >= self.current.first + self.current.requests:
            self.current = None
        if self.current is None and self.rng.random() < STRETCH_CHANCE:
            mode = self.rng.choice(MODES)
            delay = round(self.rng.uniform(*SLOW_SECONDS), 1) if mode == "slow" else 0.0
            self.current = Stretch(self.endpoint, index, self.rng.randint(*STRETCH_REQUESTS), mode, delay)
            self.stretches.append(self.current)
        return (self.current.mode, self.current.delay) if self.current else ("ok", 0.0)


def draw_rotation(seed: int, minutes: float) -> float:
    """When the secrets are rotated: seconds after the actors start, the same for a seed."""
    return round(random.Random(f"{seed}:webhooks").uniform(0.3, 0.6) * minutes * 60, 1)


def readme_verifier():
    """`verify_billy_signature` exactly as the README gives it to receivers."""
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(import hashlib.*?def verify_billy_signature.*?)```", readme, re.S)
    if code is None:
        raise RuntimeError("the README has no signature verification helper")
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # the documented snippet, as a receiver would paste it
    return namespace["verify_billy_signature"]


@dataclasses.dataclass(frozen=True)
class Request:
    endpoint: str
    event_id: str  # Billy-Event-Id
    event_type: str  # Billy-Event-Type
    body_id: str
    body_type: str
    signed_at: int | None  # the signature's t=
    verified_by: tuple[str, ...]  # which of the receiver's secrets verify it: "first", "rotated"
    answered: int | None  # the status, None when the connection was dropped on purpose
    mode: str  # the receiver's mode when it came: ok | error | unavailable | drop | slow

    @property
    def stored(self) -> bool:
        return self.answered is not None and 200 <= self.answered < 300


class Receiver:
    """One HTTP server for every endpoint (`/hooks/<name>`), faulty as each endpoint's Faults say."""

    def __init__(self, seed: int) -> None:
        self.faults = {spec.name: Faults(seed, spec.name) for spec in ENDPOINTS}
        self.secrets: dict[str, dict[str, str]] = {spec.name: {} for spec in ENDPOINTS}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.verify = readme_verifier()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                name = self.path.rsplit("/", 1)[-1]
                receiver.answer(self, name, body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)
        self.thread.start()

    def answer(self, handler: BaseHTTPRequestHandler, name: str, body: bytes) -> None:
        with self.lock:
            mode, delay = self.faults[name].next() if name in self.faults else ("ok", 0.0)
        header = handler.headers.get("Billy-Signature", "")
        stamp = re.search(r"(?:^|,)t=([0-9]+)", header)
        with self.lock:
            known = dict(self.secrets.get(name, {}))
        verified = tuple(label for label, secret in known.items() if self.verify(header, body, secret))
        try:
            item = json.loads(body)
        except ValueError:
            item = {}
        status = {"error": 500, "unavailable": 503, "drop": None}.get(mode, 200 if verified else 400)
        request = Request(
            endpoint=name,
            event_id=handler.headers.get("Billy-Event-Id", ""),
            event_type=handler.headers.get("Billy-Event-Type", ""),
            body_id=str(item.get("id", "")),
            body_type=str(item.get("type", "")),
            signed_at=int(stamp.group(1)) if stamp else None,
            verified_by=verified,
            answered=status,
            mode=mode,
        )
        with self.lock:  # stored before the answer, as the README asks of a receiver
            self.requests.append(request)
        if mode == "slow":
            time.sleep(delay)  # the fault itself: a receiver that takes its time
        if status is None:  # a receiver that dies mid-request: no answer at all
            handler.close_connection = True
            return
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclasses.dataclass
class Endpoint:
    spec: EndpointSpec
    id: str
    start_cursor: str  # its position in the feed when it was made
    rotated_at: float | None = None  # time.time() when the rotation's answer came
    old_secret_expires_at: float | None = None


class Webhooks:
    """The endpoints of one run, their receiver and the mid-run rotation."""

    def __init__(self, *, seed: int, minutes: float, env: dict[str, str]) -> None:
        self.env = env
        self.rotate_at = draw_rotation(seed, minutes)
        self.receiver = Receiver(seed)
        self.start_at = 0.0
        self.endpoints: dict[str, Endpoint] = {}
        self.http = httpx.Client(
            base_url=env["http"] + "/api/v1", headers={"Authorization": f"Bearer {env['key']}"}, timeout=30
        )
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.rotator = threading.Thread(target=self._rotate_all, name="webhook-rotation", daemon=True)

    def register(self, db: psycopg.Connection) -> None:
        """Make every endpoint (before the actors start, so before any fault)."""
        for spec in ENDPOINTS:
            body = {"url": f"{self.receiver.base}/{spec.name}", "event_types": list(spec.event_types)}
            made = self._call("POST", f"/workspaces/{spec.workspace}/webhook-endpoints", body, deadline=60)
            xid, event_id = db.execute(
                "SELECT after_xid, after_event_id FROM webhook_endpoint WHERE id = %s", [int(made["id"])]
            ).fetchone()
            self.endpoints[spec.name] = Endpoint(spec, made["id"], encode_cursor(xid, event_id))
            with self.receiver.lock:
                self.receiver.secrets[spec.name]["first"] = made["secret"]

    def start(self, start_at: float) -> None:
        """The actors start now (time.monotonic()): the rotation counts from here."""
        self.start_at = start_at
        self.rotator.start()

    def finish(self) -> None:
        """The run's end: wait for the rotation (the receiver keeps its faults while billy catches up)."""
        self.rotator.join()

    def close(self) -> None:
        self.stop.set()
        self.http.close()
        self.receiver.stop()

    def _rotate_all(self) -> None:
        if self.stop.wait(max(0.0, self.start_at + self.rotate_at - time.monotonic())):
            return
        for endpoint in self.endpoints.values():
            path = f"/workspaces/{endpoint.spec.workspace}/webhook-endpoints/{endpoint.id}/rotate-secret"
            try:
                made = self._call(
                    "POST", path, {"overlap_seconds": ROTATION_OVERLAP_SECONDS}, deadline=ROTATION_PATIENCE_SECONDS
                )
            except RuntimeError as e:
                self.failures.append(f"webhook endpoint {endpoint.spec.name}: {e}")
                continue
            with self.receiver.lock:  # the receiver takes the new secret and keeps the old for now
                self.receiver.secrets[endpoint.spec.name]["rotated"] = made["secret"]
            endpoint.rotated_at = time.time()
            endpoint.old_secret_expires_at = _unix(made["previous_secret_expires_at"])

    def _call(self, method: str, path: str, body: dict, *, deadline: float) -> dict:
        """One call with an Idempotency-Key, repeated with the same key through outages."""
        key, give_up = str(uuid.uuid4()), time.monotonic() + deadline
        while True:
            try:
                response = self.http.request(method, path, json=body, headers={"Idempotency-Key": key})
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code < 300:
                return response.json()
            if response is not None and response.status_code < 500 and response.status_code != 409:
                raise RuntimeError(f"{method} {path} was refused: {response.status_code} {response.text[:300]}")
            if time.monotonic() > give_up:
                status = response.status_code if response is not None else "no answer"
                raise RuntimeError(f"{method} {path} got no answer within {deadline} s (last: {status})")
            time.sleep(1)  # Retry-After: 409 in_progress or an outage


def _unix(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


# -- the checks ----------------------------------------------------------------------------------

# What settling waits for on the webhook side, as chaos_checks.PENDING has it: counts that must reach zero.
PENDING = {
    "webhook deliveries PENDING": "SELECT count(*) FROM webhook_delivery WHERE status = 'PENDING'",
    "webhook endpoints behind the feed": """
        SELECT count(*) FROM webhook_endpoint e
         WHERE e.enabled AND EXISTS (SELECT 1 FROM event v WHERE v.workspace_id = e.workspace_id
                                       AND (v.xid, v.id) > (e.after_xid::text::xid8, e.after_event_id))
    """,
}
# An endpoint's deliveries go one at a time, so after a long run the busiest endpoint can still be
# working through its backlog when the wait for the janitors ends: the wait goes on while webhook
# deliveries are all that is left and more of them finish, up to this much longer.
CATCH_UP_SECONDS = 900
# No delivery finishing for this long means stuck, not catching up (a receiver stretch of six slow
# answers alone takes 30 s).
CATCH_UP_PROGRESS_SECONDS = 120


class WebhookCatchUp:
    """Whether settling should wait on past its deadline: only webhook deliveries are left, and they
    finish (one did within the last CATCH_UP_PROGRESS_SECONDS), for at most CATCH_UP_SECONDS."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.delivered = -1
        self.progress_at = 0.0

    def __call__(self, db: psycopg.Connection, left: dict[str, int]) -> bool:
        now = time.monotonic()
        self.since = self.since or now
        if set(left) - {*PENDING, "jobs waiting or running"} or now - self.since > CATCH_UP_SECONDS:
            return False
        (delivered,) = db.execute("SELECT count(*) FROM webhook_delivery WHERE status = 'DELIVERED'").fetchone()
        if delivered > self.delivered:
            self.delivered, self.progress_at = delivered, now
        return now - self.progress_at <= CATCH_UP_PROGRESS_SECONDS


FEED_PAGE = 1000
FEED_READ_SECONDS = 60


def read_feed(http: httpx.Client, db: psycopg.Connection, workspace: str, after: str) -> list[dict]:
    """The workspace's feed after the cursor, read through the API to its end; read again until it
    holds every event the database has past the cursor (a transaction still open holds the feed back)."""
    xid, event_id = decode_cursor(after, int, int)
    deadline = time.monotonic() + FEED_READ_SECONDS
    while True:
        events, cursor = [], after
        while True:
            page = http.get(f"/workspaces/{workspace}/events", params={"after": cursor, "limit": FEED_PAGE})
            page.raise_for_status()
            body = page.json()
            events += body["events"]
            if len(body["events"]) < FEED_PAGE:
                break
            cursor = body["next_cursor"]
        (written,) = db.execute(
            "SELECT count(*) FROM event v JOIN workspace w ON w.id = v.workspace_id"
            " WHERE w.name = %s AND (v.xid, v.id) > (%s::text::xid8, %s)",
            [workspace, str(xid), event_id],
        ).fetchone()
        if len(events) >= written or time.monotonic() > deadline:
            return events
        time.sleep(1)  # the feed waits for an older transaction to end


def check_webhooks(db: psycopg.Connection, hooks: Webhooks) -> tuple[list[str], list[str]]:
    """(findings, figures): what the receiver got against the feed, per endpoint."""
    findings = list(hooks.failures)
    figures = [f"secrets rotated at {hooks.rotate_at:.1f}s, the old one signing {ROTATION_OVERLAP_SECONDS} s more"]
    with hooks.receiver.lock:
        requests = list(hooks.receiver.requests)
    for name, endpoint in hooks.endpoints.items():
        spec = endpoint.spec
        feed = read_feed(hooks.http, db, spec.workspace, endpoint.start_cursor)
        expected = [str(e["id"]) for e in feed if not spec.event_types or e["type"] in spec.event_types]
        mine = [r for r in requests if r.endpoint == name]
        stored = [r for r in mine if r.stored]
        seen = list(dict.fromkeys(r.event_id for r in stored))
        findings += check_received(name, expected=expected, stored=[r.event_id for r in stored])
        findings += check_requests(name, endpoint, mine)
        modes = Counter(r.mode for r in mine)
        figures.append(
            f"{name} ({spec.workspace}, {', '.join(spec.event_types) or 'every type'}): {len(expected)} events,"
            f" {len(mine)} requests ({sum(n for m, n in modes.items() if m != 'ok')} met a receiver fault:"
            f" {', '.join(f'{m} {n}' for m, n in sorted(modes.items()) if m != 'ok') or 'none'}),"
            f" {len(stored)} stored, {len(stored) - len(seen)} duplicates,"
            f" {sum('rotated' in r.verified_by for r in mine)} signed with the rotated secret"
        )
        stretches = hooks.receiver.faults[name].stretches
        figures.append(f"  receiver faults ({len(stretches)}): {', '.join(str(s) for s in stretches) or 'none'}")
    given_up = db.execute("SELECT count(*) FROM webhook_delivery WHERE status = 'GIVEN_UP'").fetchone()[0]
    if given_up:
        findings.append(f"{given_up} webhook deliveries were given up")
    attempts, failed = db.execute(
        "SELECT count(*), count(*) FILTER (WHERE status_code IS NULL OR status_code NOT BETWEEN 200 AND 299)"
        " FROM webhook_attempt"
    ).fetchone()
    figures.append(f"billy made {attempts} attempts, {failed} of them failed")
    return findings, figures


def check_received(name: str, *, expected: list[str], stored: list[str]) -> list[str]:
    """Findings unless the event ids an endpoint's receiver stored, in arrival order and deduplicated,
    are exactly the ids `expected` (the feed's events it wants, in feed order)."""
    findings = []
    seen = list(dict.fromkeys(stored))
    wanted, received = set(expected), set(seen)
    missing = [i for i in expected if i not in received]
    if missing:
        findings.append(f"webhook endpoint {name}: {len(missing)} events never received, first {missing[:5]}")
    strangers = [i for i in seen if i not in wanted]
    if strangers:
        findings.append(f"webhook endpoint {name}: received {len(strangers)} events it does not want: {strangers[:5]}")
    in_order, feed_order = [i for i in seen if i in wanted], [i for i in expected if i in received]
    if in_order != feed_order:
        at = next(k for k, (a, b) in enumerate(zip(in_order, feed_order, strict=True)) if a != b)
        findings.append(
            f"webhook endpoint {name}: events out of feed order from the {at + 1}th: {in_order[at : at + 3]}"
        )
    return findings


def check_requests(name: str, endpoint: Endpoint, requests: list[Request]) -> list[str]:
    """Findings about the requests an endpoint's receiver got: signatures, headers, the rotation."""
    findings = []
    unsigned = [r for r in requests if not r.verified_by]
    if unsigned:
        findings.append(f"webhook endpoint {name}: {len(unsigned)} requests no secret verifies: {unsigned[:2]}")
    mismatched = [r for r in requests if (r.event_id, r.event_type) != (r.body_id, r.body_type)]
    if mismatched:
        findings.append(f"webhook endpoint {name}: {len(mismatched)} requests whose headers and body disagree")
    if endpoint.rotated_at is None:
        return [*findings, f"webhook endpoint {name}: its secret was never rotated"]
    after_overlap = [
        r for r in requests if r.signed_at and r.signed_at > endpoint.old_secret_expires_at and "first" in r.verified_by
    ]
    if after_overlap:
        findings.append(
            f"webhook endpoint {name}: {len(after_overlap)} requests signed with the old secret after its overlap"
        )
    unrotated = [
        r for r in requests if r.signed_at and r.signed_at >= endpoint.rotated_at + 1 and "rotated" not in r.verified_by
    ]
    if unrotated:
        findings.append(
            f"webhook endpoint {name}: {len(unrotated)} requests sent after the rotation lack the new secret"
        )
    return findings
