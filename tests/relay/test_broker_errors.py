"""How the NATS adapter names JetStream's answers: the server's own trouble (a 503 while JetStream
recovers after a restart, a 500) is "unavailable", retried; a 400-class answer is a refusal."""

from __future__ import annotations

import nats.js.errors
import pytest

from billy.integrations.broker import BrokerRefused, BrokerUnavailable


def failing_js(broker, error: Exception) -> None:
    """The broker's connection, made for real, with JetStream answering `error` to every stream call."""
    broker._call(broker._connected())

    async def fail(*args, **kwargs):
        raise error

    js, connect = broker._js, broker._connected
    for name in ("stream_info", "add_stream", "update_stream"):
        setattr(js, name, fail)

    async def connected():
        # That connection once; the failed call drops it, and the next one (the fixture's
        # cleanup) connects afresh.
        broker._connected = connect
        return js

    broker._connected = connected


@pytest.mark.parametrize(
    "error",
    [
        nats.js.errors.ServiceUnavailableError(code=503, description="JetStream system temporarily unavailable"),
        nats.js.errors.ServerError(code=500, description="jetstream not ready"),
        nats.js.errors.APIError(code=503, description="no responders"),
    ],
    ids=["503", "500", "503-plain"],
)
def test_jetstream_recovering_is_unavailable_not_refused(broker, target, error):
    failing_js(broker, error)

    with pytest.raises(BrokerUnavailable, match="cannot answer now"):
        broker.ensure_stream(target.spec)


def test_a_bad_request_is_refused(broker, target):
    failing_js(broker, nats.js.errors.BadRequestError(code=400, description="stream name in subject does not match"))

    with pytest.raises(BrokerRefused, match="stream name in subject does not match"):
        broker.ensure_stream(target.spec)
