"""The message broker that the relay publishes the event feed to: NATS JetStream.

The adapter speaks NATS's own protocol (nats-py): it publishes a batch without waiting between
messages, with each message's id in the `Nats-Msg-Id` header, then awaits every acknowledgement;
the stream drops a message whose id it already holds within its duplicate window.
"""

from django.conf import settings

from .port import (
    Broker,
    BrokerError,
    BrokerMessage,
    BrokerRefused,
    BrokerUnavailable,
    MessageTooBig,
    StoredMessage,
    StreamSpec,
    StreamState,
)

__all__ = [
    "Broker",
    "BrokerError",
    "BrokerMessage",
    "BrokerRefused",
    "BrokerUnavailable",
    "MessageTooBig",
    "StoredMessage",
    "StreamSpec",
    "StreamState",
    "get_broker",
]


def get_broker(url: str | None = None) -> Broker:
    """The configured broker adapter (settings.BILLY_BROKER_URL, BILLY_BROKER_TIMEOUT)."""
    from .client import NatsBroker

    return NatsBroker(url or settings.BILLY_BROKER_URL, timeout=settings.BILLY_BROKER_TIMEOUT)
