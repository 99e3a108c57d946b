"""A TCP proxy in front of the machine's NATS that a test can take down (every connection cut, each
new one closed as soon as it is accepted) and bring up again: NATS going away, as the relay sees it.
It keeps its listening socket (a port bound once, by the system's choice) for its whole life."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit


class TcpProxy:
    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 4222)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._up = True
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def up(self) -> None:
        with self._lock:
            self._up = True

    def down(self) -> None:
        with self._lock:
            self._up = False
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            _cut(s)

    def close(self) -> None:
        self.down()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked in its thread
        except OSError:
            pass
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                up = self._up
            if not up:
                _cut(client)  # down: the connection ends before NATS's first word
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                _cut(client)
                continue
            with self._lock:
                if not self._up:  # taken down meanwhile
                    _cut(client)
                    _cut(server)
                    continue
                self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _cut(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()
