"""The message broker port: a stream that keeps what is published to it, and publishing to it.

A publish names each message with an id; the broker keeps one message per id within its duplicate
window, so a batch whose outcome was unknown (a crash, a timeout) is simply published again.
`BrokerUnavailable` covers "not published" and "maybe published" alike: publish the same messages
again later. `BrokerRefused` means the broker will not take them as it is set up; repeating will
not help until someone changes that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


class BrokerError(Exception):
    """Base of every broker adapter error."""


class BrokerUnavailable(BrokerError):
    """Not reached, connection lost, or no acknowledgement in time: publish the same messages again."""


class BrokerRefused(BrokerError):
    """The broker refused (a stream set up otherwise, a limit reached): a 400-class answer. The
    server's own trouble (500, 503 while JetStream recovers) is BrokerUnavailable."""


class MessageTooBig(BrokerRefused):
    """A message is bigger than the broker takes (NATS's max_payload): no publish of it will succeed
    until the broker's limit is raised. Nothing of its batch was published."""

    def __init__(self, *, message_id: str, size: int, limit: int) -> None:
        self.message_id, self.size, self.limit = message_id, size, limit
        super().__init__(f"message {message_id} is {size} bytes, the broker takes at most {limit} (max_payload)")


@dataclass(frozen=True)
class StreamSpec:
    """The stream the messages go to: its name, the subjects it takes, and how long it remembers a
    message id to drop a repeat."""

    name: str
    subjects: tuple[str, ...]
    duplicate_window_seconds: float


@dataclass(frozen=True)
class StreamState:
    name: str
    messages: int
    last_sequence: int
    # What ensure_stream did: "created", "updated" (the duplicate window changed) or "checked".
    action: str
    # What tells this stream from another of the same name made before or after it (the broker's
    # creation time of it): a stream deleted and made again has another.
    identity: str = ""


@dataclass(frozen=True)
class BrokerMessage:
    subject: str
    body: bytes
    # The broker keeps one message per id within the stream's duplicate window.
    message_id: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredMessage:
    """A message as the stream holds it: its place in the stream, subject, id and headers."""

    sequence: int
    subject: str
    message_id: str
    headers: dict[str, str]
    body: bytes


class Broker(Protocol):
    def ensure_stream(self, spec: StreamSpec) -> StreamState:
        """Create the stream, or check that the one there takes `spec.subjects` (and set its duplicate
        window to the spec's). Raises BrokerUnavailable, BrokerRefused."""
        ...

    def publish(self, messages: Sequence[BrokerMessage]) -> int:
        """Publish the messages in this order and return when the broker has acknowledged every one;
        how many of them it dropped as repeats. Raises BrokerUnavailable, BrokerRefused."""
        ...

    def read_stream(self, name: str) -> list[StoredMessage]:
        """Every message the stream holds, in its order (for checks, not for consumers: they read
        with their own durable consumers). Raises BrokerUnavailable, BrokerRefused."""
        ...

    def delete_stream(self, name: str) -> bool:
        """Delete the stream and everything in it; whether there was one. Raises BrokerUnavailable."""
        ...

    def close(self) -> None: ...
