"""The NATS JetStream adapter.

nats-py is asynchronous; billy's processes are not. The adapter runs its own event loop in a thread
of its own for as long as it lives (so the connection answers the server's pings between calls),
and each call waits for its coroutine there. A call that fails drops the connection: the next one
connects afresh, so no state of a broken connection is carried over.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from .port import BrokerMessage, BrokerRefused, BrokerUnavailable, MessageTooBig, StoredMessage, StreamSpec, StreamState

logger = logging.getLogger(__name__)
T = TypeVar("T")
# The most publishes awaiting their acknowledgement at once (a bigger batch waits for room).
MAX_PENDING = 4000
# nats-py's codes for "the stream does not exist".
STREAM_NOT_FOUND = 10059


class NatsBroker:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats-broker", daemon=True)
        self._thread.start()
        self._nc: Any = None
        self._js: Any = None

    # -- the calls ------------------------------------------------------------------------------

    def ensure_stream(self, spec: StreamSpec) -> StreamState:
        return self._call(self._ensure_stream(spec))

    def publish(self, messages: Sequence[BrokerMessage]) -> int:
        if not messages:
            return 0
        return self._call(self._publish(messages))

    def read_stream(self, name: str) -> list[StoredMessage]:
        return self._call(self._read_stream(name))

    def delete_stream(self, name: str) -> bool:
        return self._call(self._delete_stream(name))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._call(self._disconnect(), quiet=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=self.timeout)
        if not self._thread.is_alive():
            self._loop.close()

    # -- inside the loop ------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T], *, quiet: bool = False) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            # Each coroutine bounds its own waits; this one only guards against a stuck loop.
            return future.result(timeout=self.timeout * 3 + 5)
        except (BrokerUnavailable, BrokerRefused):
            self._call_drop()
            raise
        except TimeoutError as e:
            future.cancel()
            self._call_drop()
            raise BrokerUnavailable(f"NATS at {self.url}: no answer in {self.timeout:g} s") from e
        except Exception:
            if quiet:
                return None  # type: ignore[return-value]
            raise

    def _call_drop(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self._disconnect(), self._loop).result(timeout=self.timeout)
        except Exception:  # a connection that will not close is dropped all the same
            logger.debug("NATS: closing a failed connection failed", exc_info=True)
        self._nc = self._js = None

    async def _connected(self) -> Any:
        if self._nc is not None and self._nc.is_connected:
            return self._js

        seen: list[Exception] = []

        async def quiet(e: Exception) -> None:  # failures are reported by the call that meets them
            seen.append(e)
            logger.debug("NATS: %s", e)

        nc = NatsClient()
        try:
            # Two tries (nats-py's least), then the caller hears of it and retries on its own schedule.
            await nc.connect(
                self.url,
                connect_timeout=self.timeout,
                allow_reconnect=False,
                max_reconnect_attempts=1,
                reconnect_time_wait=0.2,
                error_cb=quiet,
            )
        except Exception as e:
            raise BrokerUnavailable(f"NATS at {self.url} does not answer: {_why(seen[-1] if seen else e)}") from e
        self._nc = nc
        self._js = self._nc.jetstream(timeout=self.timeout, publish_async_max_pending=MAX_PENDING)
        return self._js

    async def _disconnect(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            await nc.close()

    async def _ensure_stream(self, spec: StreamSpec) -> StreamState:
        js = await self._connected()
        try:
            try:
                info = await js.stream_info(spec.name)
            except nats.js.errors.NotFoundError:
                info = await js.add_stream(
                    StreamConfig(
                        name=spec.name,
                        subjects=list(spec.subjects),
                        storage=StorageType.FILE,
                        duplicate_window=spec.duplicate_window_seconds,
                    )
                )
                return _state(info, "created")
            missing = set(spec.subjects) - set(info.config.subjects or ())
            if missing:
                raise BrokerRefused(
                    f"stream {spec.name} takes subjects {info.config.subjects}, not {sorted(missing)}: "
                    "choose another stream name, or add the subjects to it"
                )
            if abs((info.config.duplicate_window or 0) - spec.duplicate_window_seconds) > 0.001:
                info.config.duplicate_window = spec.duplicate_window_seconds
                return _state(await js.update_stream(info.config), "updated")
            return _state(info, "checked")
        except BrokerRefused:
            raise
        except nats.js.errors.APIError as e:
            raise _api_error(self.url, e, f"NATS refused stream {spec.name}") from e
        except Exception as e:
            raise BrokerUnavailable(f"NATS at {self.url}: {_why(e)}") from e

    async def _publish(self, messages: Sequence[BrokerMessage]) -> int:
        js = await self._connected()
        # The server closes a connection that sends more than its max_payload (headers included):
        # such a message is refused here, before anything of the batch is sent.
        for m in messages:
            if (size := _size(m)) > self._nc.max_payload:
                raise MessageTooBig(message_id=m.message_id, size=size, limit=self._nc.max_payload)
        futures: list[asyncio.Future] = []
        try:
            # One connection sends in order and the server stores in the order received, so the
            # stream holds the messages in this order; the acknowledgements are awaited together.
            for m in messages:
                # No `wait_stall`: it costs a task per message; a batch past MAX_PENDING waits for room.
                futures.append(
                    await js.publish_async(m.subject, m.body, headers={"Nats-Msg-Id": m.message_id, **m.headers})
                )
            acks = await asyncio.wait_for(asyncio.gather(*futures), timeout=self.timeout)
        except nats.js.errors.NoStreamResponseError as e:
            # No answer from a stream: none takes the subject (deleted), or JetStream is starting.
            raise BrokerUnavailable(f"no stream at NATS answers for subject {messages[0].subject}") from e
        except nats.js.errors.APIError as e:
            raise _api_error(self.url, e, "NATS refused a message") from e
        except TimeoutError as e:
            raise BrokerUnavailable(f"NATS at {self.url}: no acknowledgement in {self.timeout:g} s") from e
        except Exception as e:
            raise BrokerUnavailable(f"NATS at {self.url}: {_why(e)}") from e
        finally:
            for f in futures:
                f.cancel()  # those still waiting: their answers no longer matter
        return sum(1 for ack in acks if ack.duplicate)

    async def _read_stream(self, name: str) -> list[StoredMessage]:
        js = await self._connected()
        try:
            info = await js.stream_info(name)
            total, out = info.state.messages, []
            if not total:
                return out
            # An ephemeral consumer that acknowledges nothing: reading changes nothing in the stream.
            config = ConsumerConfig(
                ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=60.0
            )
            sub = await js.pull_subscribe(">", stream=name, config=config)
            try:
                while len(out) < total:
                    for m in await sub.fetch(batch=min(total - len(out), 1000), timeout=self.timeout):
                        headers = dict(m.headers or {})
                        out.append(
                            StoredMessage(
                                sequence=m.metadata.sequence.stream,
                                subject=m.subject,
                                message_id=headers.get("Nats-Msg-Id", ""),
                                headers=headers,
                                body=m.data,
                            )
                        )
            finally:
                await sub.unsubscribe()
            return out
        except nats.js.errors.NotFoundError as e:
            raise BrokerRefused(f"no stream {name} at NATS") from e
        except nats.js.errors.APIError as e:
            raise _api_error(self.url, e, f"NATS refused to read stream {name}") from e
        except Exception as e:
            raise BrokerUnavailable(f"NATS at {self.url}: {_why(e)}") from e

    async def _delete_stream(self, name: str) -> bool:
        js = await self._connected()
        try:
            return await js.delete_stream(name)
        except nats.js.errors.NotFoundError:
            return False
        except Exception as e:
            raise BrokerUnavailable(f"NATS at {self.url}: {_why(e)}") from e


def _size(m: BrokerMessage) -> int:
    """The message's bytes as NATS counts them against max_payload: body and header block."""
    headers = {"Nats-Msg-Id": m.message_id, **m.headers}
    return len(m.body) + len(b"NATS/1.0\r\n\r\n") + sum(len(f"{k}: {v}\r\n".encode()) for k, v in headers.items())


def _api_error(url: str, e: nats.js.errors.APIError, refused: str) -> BrokerUnavailable | BrokerRefused:
    """A JetStream API error: the server's own trouble (500, or 503 while JetStream recovers after a
    restart) passes, so the call is repeated; a 400-class answer is a refusal."""
    if isinstance(e, nats.js.errors.ServiceUnavailableError | nats.js.errors.ServerError) or (e.code or 0) >= 500:
        return BrokerUnavailable(f"NATS at {url} cannot answer now: {e.description or _why(e)}")
    return BrokerRefused(f"{refused}: {e.description or e}")


def _state(info: Any, action: str) -> StreamState:
    return StreamState(
        name=info.config.name,
        messages=info.state.messages,
        last_sequence=info.state.last_seq,
        action=action,
        identity=info.created.isoformat() if info.created else "",
    )


def _why(e: BaseException) -> str:
    return str(e) or type(e).__name__
