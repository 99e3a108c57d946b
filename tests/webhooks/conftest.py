"""A webhook receiver on a loopback socket: it verifies each request's signature with the README's
own helper (once given its secrets), answers 500 to its first `fail_first` requests on purpose, and
can hold a request until told to answer."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import ROOT


def readme_verifier():
    """`verify_billy_signature` exactly as the README's Webhooks section gives it to receivers."""
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(import hashlib.*?def verify_billy_signature.*?)```", readme, re.S)
    assert code, "the README has no signature verification helper"
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # the documented snippet, as a receiver would paste it
    return namespace["verify_billy_signature"]


@dataclasses.dataclass
class Received:
    event_id: str
    event_type: str
    signature: str
    body: bytes
    answered: int


class Receiver:
    def __init__(self) -> None:
        self.fail_first = 0
        # Given secrets, a request no secret verifies (at `now()`, unix seconds) is answered 400.
        self.secrets: list[str] = []
        self.now = time.time
        self.verify = readme_verifier()
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.hold = threading.Event()
        self.hold.set()  # set: answer at once; cleared: wait until set
        self.holding = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if not receiver.hold.is_set():
                    receiver.holding.set()
                    receiver.hold.wait(timeout=120)
                signature = self.headers.get("Billy-Signature", "")
                with receiver.lock:
                    verified = not receiver.secrets or any(
                        receiver.verify(signature, body, secret, now=receiver.now()) for secret in receiver.secrets
                    )
                    status = 500 if len(receiver.requests) < receiver.fail_first else 200 if verified else 400
                    receiver.requests.append(
                        Received(
                            event_id=self.headers.get("Billy-Event-Id", ""),
                            event_type=self.headers.get("Billy-Event-Type", ""),
                            signature=signature,
                            body=body,
                            answered=status,
                        )
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if 200 <= r.answered < 300]

    def seen_once(self) -> list[str]:
        """Event ids of accepted requests in arrival order, each once (a receiver dedups by event id)."""
        return list(dict.fromkeys(r.event_id for r in self.accepted()))

    def stop(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()
