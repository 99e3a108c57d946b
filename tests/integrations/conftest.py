"""Fixtures for the payment provider (a YooKassa emulator and a webhook receiver) and for Balance's
notifications (a NotifyOrder receiver)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from billy.integrations.yookassa.client import YooKassaClient
from billy.integrations.yookassa.emulator import YooKassaEmulator, YooKassaEmulatorControl
from billy.integrations.yookassa.port import ShopCredentials

SHOP_ID = "100500"
SECRET_KEY = "test_secret_key"
# The adapter's read timeout in tests: room for a busy machine; a commit_then_timeout fault hangs past it.
TEST_YOOKASSA_TIMEOUT = 3.0
# Webhook redelivery starts this fast in tests, so "until 200" takes milliseconds.
TEST_WEBHOOK_RETRY_SECONDS = 0.05


@pytest.fixture(scope="session")
def yookassa_emulator():
    emulator = YooKassaEmulator(webhook_retry_seconds=TEST_WEBHOOK_RETRY_SECONDS).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def yookassa_control(yookassa_emulator) -> YooKassaEmulatorControl:
    """The emulator's control API, reset (webhook targets too) for each test."""
    control = YooKassaEmulatorControl(yookassa_emulator.base_url)
    control.reset(webhooks=True)
    return control


@pytest.fixture
def shop(yookassa_emulator) -> ShopCredentials:
    return ShopCredentials(api_url=yookassa_emulator.api_url, shop_id=SHOP_ID, secret_key=SECRET_KEY)


@pytest.fixture
def yookassa(shop, yookassa_control) -> YooKassaClient:
    return YooKassaClient(shop, connect_timeout=1.0, timeout=TEST_YOOKASSA_TIMEOUT)


class WebhookReceiver:
    """A tiny HTTP server that records every POSTed notification and answers from a script."""

    def __init__(self) -> None:
        self.notifications: list[dict[str, Any]] = []
        self.answers: list[int] = []  # statuses to answer first, in order; 200 after them
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.notifications.append(json.loads(body))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/yookassa"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.notifications)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def webhook_receiver(yookassa_control):
    """A receiver registered as the test shop's webhook target."""
    receiver = WebhookReceiver()
    yookassa_control.register_webhook(SHOP_ID, receiver.url)
    yield receiver
    receiver.stop()


class NotifyReceiver:
    """billy's side of `BalanceClient.NotifyOrder` in miniature: a real HTTP server that reads each call
    with billy's parser and answers success, or what the test scripted first (a fault code or a status)."""

    def __init__(self) -> None:
        from billy.integrations.balance import notification

        self.received: list[Any] = []  # port.Notification, in arrival order
        self.script: list[int | str] = []  # answers to give first: an HTTP status, or a fault code
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parsed = notification.parse_notify_order(body)
                with receiver._lock:
                    receiver.received.append(parsed)
                    answer = receiver.script.pop(0) if receiver.script else 200
                if isinstance(answer, str):
                    status, reply = 200, notification.fault_body(answer, "try again later")
                else:
                    status, reply = answer, notification.success_body() if answer == 200 else b"busy"
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/balance/notify"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def notifications(self) -> list[Any]:
        with self._lock:
            return list(self.received)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# Balance's retry schedule (10 s, 1 min, ...) shrunk a thousandfold: retries take milliseconds.
TEST_NOTIFY_SCALE = 0.001


@pytest.fixture
def notify_receiver(balance_control):
    """A receiver the emulator sends every service's notifications to, with the retry schedule shrunk."""
    receiver = NotifyReceiver()
    balance_control.configure(notify_url=receiver.url, notify_scale=TEST_NOTIFY_SCALE)
    yield receiver
    receiver.stop()
