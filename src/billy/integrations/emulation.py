"""What billy's HTTP JSON emulators (the Auth API, the notification service) share.

An emulator is an `EmulatorApp` (the emulated service's state and its API, behind one lock)
served by a threaded `http.server` through `Emulator`. This module owns everything such an
emulator does the same way, so each app only says what its service does:

- routing: `GET /health`; the emulated API under `/v1/`; the shared control API under
  `/_emulator/`; any other path (app-specific control endpoints, a browsable page) goes to the
  app's `handle_other`;
- the `Authorization: Bearer <token>` check of API requests (401 `unauthenticated`);
- faults, queued with `POST /_emulator/faults {"kind", "count": 1, "seconds": 0}`, each taken by
  the next API request:
    `unavailable` → 503, nothing done;  `error` → 500, nothing done;
    `delay` → wait `seconds`, then answer as usual;
    `commit_then_timeout` → do the request, wait `seconds`, close the connection without answering;
    `down` → every API request answers 503 until `seconds` of real time have passed.
  `GET /_emulator/faults` shows them; `DELETE /_emulator/faults` clears them (and ends `down`);
- a log of every API request, `GET /_emulator/requests`: `seq`, `method`, `path`, the app's own
  fields (`describe`), `status` (None when the connection was closed without an answer),
  `outcome` and `at`. Outcomes: `ok` (answered a read), `applied` (a write took effect),
  `replayed` (a repeated idempotency key got the first answer back), `rejected:<code>` (4xx),
  and the fault that answered instead: `unavailable`, `error`, `down`;
- `POST /_emulator/reset`: forget the app's state, the log and the faults;
- with a state file, the app's state (not the log, not the faults) is written behind each change
  (`StateFile`) and read back at start, so it survives a restart.

Errors, from the API and the control API alike, are `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import atexit
import dataclasses
import hmac
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import httpx

from billy.core import clock

logger = logging.getLogger(__name__)

FAULT_KINDS = ("unavailable", "error", "delay", "commit_then_timeout", "down")
API_PREFIX = "/v1/"


def timestamp() -> str:
    """Now, as the emulators write it: ISO 8601 UTC with milliseconds, `2026-11-23T12:00:00.000Z`."""
    return clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StateFile:
    """An emulator's state on disk, written behind its changes.

    `changed()` (under the emulator's lock) marks the state dirty; a background thread writes the
    latest state, so a busy emulator pays one JSON dump per write instead of one per request (which,
    as the state grew to thousands of objects, made every request slower and the emulator the
    bottleneck of a long run). The dump holds the emulator's lock, so writes are paced by their own
    cost: after a write that held the lock for d seconds the next waits max(`interval`, 9·d), and
    requests get the lock at least nine tenths of the time however large the state grows. `flush()`
    writes at once: on stop, on reset and at exit (SIGTERM included). A SIGKILL loses at most the
    changes since the last write. Each write goes aside and is renamed, so a crash mid-write leaves
    the previous state.
    """

    def __init__(
        self, path: Path | None, *, lock: threading.RLock, snapshot: Callable[[], Any], interval: float = 0.25
    ) -> None:
        self.path = path
        self._lock = lock  # the emulator's: `snapshot` reads its state under it
        self._snapshot = snapshot
        self._interval = interval
        self._dirty = False
        self._write_lock = threading.Lock()  # one write at a time, in order
        self._wakeup = threading.Event()
        self._writer: threading.Thread | None = None

    def read(self) -> Any:
        """The saved state, or None without a file."""
        if self.path is None or not self.path.exists():
            return None
        return json.loads(self.path.read_text())

    def changed(self) -> None:
        if self.path is None:
            return
        self._dirty = True
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_behind, name="emulator-state", daemon=True)
            self._writer.start()
            atexit.register(self.flush)
        self._wakeup.set()

    def flush(self) -> float:
        """Write the state now if it changed; returns how long the emulator's lock was held."""
        if self.path is None:
            return 0.0
        with self._write_lock:
            with self._lock:
                if not self._dirty:
                    return 0.0
                started = time.monotonic()
                text = json.dumps(self._snapshot(), ensure_ascii=False)
                self._dirty = False
                held = time.monotonic() - started
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(self.path)
            return held

    def _write_behind(self) -> None:
        while True:
            self._wakeup.wait()
            self._wakeup.clear()
            held = 0.0
            try:
                held = self.flush()
            except Exception:
                logger.exception("writing the emulator's state to %s failed; the next change tries again", self.path)
                self._dirty = True
            time.sleep(max(self._interval, 9 * held))  # a pace for writes, not a wait for anything


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str  # as sent, still percent-encoded, so "/" inside a segment stays "%2F"
    query: dict[str, str]
    headers: Message
    body: bytes

    @property
    def segments(self) -> list[str]:
        return [urllib.parse.unquote(s) for s in self.path.strip("/").split("/")]

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.body)


@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # a JSON value, or text when content_type is not JSON
    outcome: str = "ok"  # what the request log says happened
    content_type: str = "application/json"

    def encode(self) -> bytes:
        if self.content_type == "application/json":
            return json.dumps(self.body, ensure_ascii=False).encode()
        return str(self.body).encode()


def error(status: int, code: str, message: str, *, outcome: str | None = None) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}}, outcome or f"rejected:{code}")


def query_filter(items: list[dict[str, Any]], query: dict[str, str], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """The items whose `fields` equal the query's values, for the fields the query gives."""
    wanted = {f: query[f] for f in fields if query.get(f)}
    return [item for item in items if all(item.get(f) == v for f, v in wanted.items())]


@dataclasses.dataclass
class FaultRule:
    kind: str
    remaining: int = 1
    seconds: float = 0.0


class Faults:
    """Queued faults, taken one per API request, and the end of a `down` window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._down_until: float | None = None  # time.monotonic(): wall-clock jumps do not end it

    def add(self, spec: Any) -> FaultRule:
        """Queue a fault from its JSON spec; ValueError saying what is wrong with it."""
        if not isinstance(spec, dict) or spec.get("kind") not in FAULT_KINDS:
            raise ValueError(f"a fault is {{kind, count, seconds}} with kind one of {', '.join(FAULT_KINDS)}")
        try:
            rule = FaultRule(spec["kind"], int(spec.get("count", 1)), float(spec.get("seconds", 0)))
        except (TypeError, ValueError) as e:
            raise ValueError(f"count is an integer and seconds a number: {e}") from e
        if rule.remaining < 1 or rule.seconds < 0 or (rule.kind == "down" and rule.seconds <= 0):
            raise ValueError("count must be >= 1 and seconds >= 0 (> 0 for down)")
        with self._lock:
            if rule.kind == "down":
                self._down_until = time.monotonic() + rule.seconds
            else:
                self._rules.append(rule)
        return rule

    def take(self) -> FaultRule | None:
        """The fault the next API request meets, if any."""
        with self._lock:
            if self._down_until is not None:
                left = self._down_until - time.monotonic()
                if left > 0:
                    return FaultRule("down", seconds=left)
                self._down_until = None
            if not self._rules:
                return None
            rule = self._rules[0]
            rule.remaining -= 1
            if rule.remaining == 0:
                self._rules.pop(0)
            return dataclasses.replace(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._down_until = None

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            left = None if self._down_until is None else max(0.0, self._down_until - time.monotonic())
            return {"faults": [dataclasses.asdict(r) for r in self._rules], "down_seconds_left": left}


class EmulatorApp:
    """An emulated service: its state and API. Subclasses fill in the hooks below.

    `handle` runs under `self.lock`, after the token check and the faults, so each request sees and
    leaves a consistent state. `forget` sets the empty state; `dump`/`load` turn it into JSON and
    back for the state file.
    """

    name = "emulator"

    def __init__(self, *, token: str, state_file: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.token = token
        self.state_file = StateFile(state_file, lock=self.lock, snapshot=self.dump)
        self.faults = Faults()
        self.requests: list[dict[str, Any]] = []
        self.forget()
        saved = self.state_file.read()
        if saved is not None:
            self.load(saved)

    # -- hooks ---------------------------------------------------------------------------------
    def forget(self) -> None:
        """Set the empty state."""

    def dump(self) -> dict[str, Any]:
        return {}

    def load(self, saved: dict[str, Any]) -> None:
        """Restore the state `dump` wrote."""

    def describe(self, request: Request) -> dict[str, Any]:
        """The app's fields of an API request for the request log (the same keys for every request)."""
        return {}

    def handle(self, request: Request) -> Reply:
        """Answer an authorized API request."""
        raise NotImplementedError

    def handle_other(self, request: Request) -> Reply | None:
        """Answer a path outside the API and the shared control API, or None for 404."""
        return None

    # -- shared --------------------------------------------------------------------------------
    def authorized(self, request: Request) -> bool:
        given = request.headers.get("Authorization") or ""
        return hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode())

    def save(self) -> None:
        """The state changed: the state file is written behind."""
        self.state_file.changed()

    def reset(self) -> None:
        with self.lock:
            self.forget()
            self.requests.clear()
            self.faults.clear()
            self.save()
        self.state_file.flush()

    def log(self, request: Request, fields: dict[str, Any], *, status: int | None, outcome: str) -> None:
        with self.lock:
            self.requests.append(
                {
                    "seq": len(self.requests) + 1,
                    "method": request.method,
                    "path": request.path,
                    **fields,
                    "status": status,
                    "outcome": outcome,
                    "at": timestamp(),
                }
            )


class EmulatorHandler(BaseHTTPRequestHandler):
    """What every emulator's request handler does alike: HTTP/1.1 with keep-alive, its log lines at
    debug level under its name, an answer written whole with its length, a caller that left before
    the answer (its timeout) noted, not raised."""

    protocol_version = "HTTP/1.1"

    def emulator_name(self) -> str:
        return "an"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug(f"{self.emulator_name()} emulator: " + format, *args)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The caller stopped waiting (its timeout): what it asked for is done, as with the real service.
            logger.debug("%s emulator: the caller left before the answer", self.emulator_name())

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


class _Handler(EmulatorHandler):
    server: _Server

    def emulator_name(self) -> str:
        return self.server.app.name

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path,
            query=dict(urllib.parse.parse_qsl(url.query)),
            headers=self.headers,
            body=self._body(),
        )
        if url.path.startswith(API_PREFIX):
            self._api(request)
        else:
            self._reply(
                self._control(request)
                or self.server.app.handle_other(request)
                or error(404, "not_found", f"no {request.method} {request.path}")
            )

    def _api(self, request: Request) -> None:
        app = self.server.app
        fields = app.describe(request)
        rule = app.faults.take()
        kind = rule.kind if rule else None
        if kind in ("unavailable", "down"):
            reply = error(503, "unavailable", "the service is unavailable, retry later", outcome=kind)
        elif kind == "error":
            reply = error(500, "internal_error", "internal error; nothing was done", outcome=kind)
        else:
            if rule and kind == "delay":
                time.sleep(rule.seconds)
            if not app.authorized(request):
                reply = error(401, "unauthenticated", "missing or unknown bearer token")
            else:
                with app.lock:
                    reply = app.handle(request)
            if rule and kind == "commit_then_timeout":
                app.log(request, fields, status=None, outcome=reply.outcome)
                time.sleep(rule.seconds)
                self.close_connection = True
                return
        app.log(request, fields, status=reply.status, outcome=reply.outcome)
        self._reply(reply)

    def _control(self, request: Request) -> Reply | None:
        app = self.server.app
        reply = None
        match request.method, request.path:
            case "GET", "/health":
                reply = Reply(200, {"status": "ok"})
            case "GET", "/_emulator/requests":
                with app.lock:
                    reply = Reply(200, {"requests": list(app.requests)})
            case "GET", "/_emulator/faults":
                reply = Reply(200, app.faults.snapshot())
            case "POST", "/_emulator/faults":
                try:
                    reply = Reply(200, dataclasses.asdict(app.faults.add(request.json())))
                except ValueError as e:
                    reply = error(400, "bad_request", str(e))
            case "DELETE", "/_emulator/faults":
                app.faults.clear()
                reply = Reply(200, app.faults.snapshot())
            case "POST", "/_emulator/reset":
                app.reset()
                reply = Reply(200, {"status": "reset"})
        return reply

    def _reply(self, reply: Reply) -> None:
        content_type = reply.content_type
        self._send(
            reply.status, reply.encode(), f"{content_type}; charset=utf-8" if "text/" in content_type else content_type
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler sleeping in a fault does not hold up stop()
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: EmulatorApp) -> None:
        super().__init__(address, _Handler)
        self.app = app


class Emulator:
    """Serves an app: in a background thread (tests) or in the foreground (`billy emulate ...`)."""

    def __init__(self, app: EmulatorApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server = _Server((host, port), app)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        # A short poll interval, so stop() returns promptly.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name=f"{self.app.name}-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.app.state_file.flush()


class EmulatorControl:
    """Drives a running emulator's shared control API (tests, `billy dev`)."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=10)

    def _get(self, path: str, **params: str | None) -> Any:
        response = self._http.get(path, params={k: v for k, v in params.items() if v is not None})
        response.raise_for_status()
        return response.json()

    def requests(self) -> list[dict[str, Any]]:
        return self._get("/_emulator/requests")["requests"]

    def inject(self, kind: str, *, count: int = 1, seconds: float = 0) -> None:
        """Queue a fault (see FAULT_KINDS) for the next `count` API requests; `down` lasts `seconds`."""
        self._http.post("/_emulator/faults", json={"kind": kind, "count": count, "seconds": seconds}).raise_for_status()

    def clear_faults(self) -> None:
        self._http.delete("/_emulator/faults").raise_for_status()

    def reset(self) -> None:
        self._http.post("/_emulator/reset").raise_for_status()

    def close(self) -> None:
        self._http.close()
