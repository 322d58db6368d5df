"""SIP over TCP and TLS: framed connections with limits, keep-alives and a connection registry.

Every accepted or opened connection gets an integer id; a message that arrived on it carries the id
in its source `Destination`, so replies and later requests (to a phone registered over TCP behind
NAT) go back over the same connection. Idle connections and connections that hold a partial
message too long are closed.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from softswitch.sip.destination import Destination
from softswitch.sip.errors import ProtocolError
from softswitch.sip.framing import KeepAlivePing, StreamFramer

__all__ = ["StreamTransport", "StreamLimits", "MessageHandler", "ErrorReplier"]

log = logging.getLogger(__name__)

MessageHandler = Callable[[bytes, Destination], None]
# Called with a framing error and the partial bytes, may return a reply to send before closing.
ErrorReplier = Callable[[ProtocolError, bytes], bytes | None]


@dataclass(frozen=True)
class StreamLimits:
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 64 * 1024
    idle_timeout: float = 900.0
    partial_timeout: float = 30.0
    max_connections: int = 10000


class _Connection(asyncio.Protocol):
    def __init__(self, owner: StreamTransport, conn_id: int) -> None:
        self.owner = owner
        self.id = conn_id
        self.framer = StreamFramer(owner.limits.max_header_bytes, owner.limits.max_body_bytes)
        self.transport: asyncio.Transport | None = None
        self.peer: tuple[str, int] = ("", 0)
        self.last_activity = 0.0
        self.partial_since: float | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        peer = transport.get_extra_info("peername")
        self.peer = (str(peer[0]), int(peer[1]))
        if len(self.owner.connections) >= self.owner.limits.max_connections:
            log.warning("connection limit reached, refusing %s:%s", *self.peer)
            transport.abort()
            return
        self.owner.connections[self.id] = self
        self.owner.by_peer[self.peer] = self.id
        self.last_activity = self.owner.loop.time()

    def data_received(self, data: bytes) -> None:
        now = self.owner.loop.time()
        self.last_activity = now
        try:
            frames = self.framer.feed(data)
        except ProtocolError as exc:
            self._fail(exc)
            return
        source = Destination(self.peer[0], self.peer[1], self.owner.name, self.id)
        for frame in frames:
            if isinstance(frame, KeepAlivePing):
                self.write(b"\r\n")
                continue
            try:
                self.owner.on_message(frame, source)
            except Exception:
                log.exception("error handling a message from %s:%s", *self.peer)
        self.partial_since = (self.partial_since or now) if self.framer.buffered else None

    def _fail(self, exc: ProtocolError) -> None:
        """A framing error: answer if possible, then close (the stream cannot be resynced)."""
        on_error = self.owner.on_error
        reply = on_error(exc, self.framer.pending()) if on_error else None
        if reply and self.transport is not None:
            self.transport.write(reply)
        log.info("closing %s connection from %s:%s: %s", self.owner.name, *self.peer, exc.reason)
        if self.transport is not None:
            self.transport.close()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)
            self.last_activity = self.owner.loop.time()

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner.connections.pop(self.id, None)
        if self.owner.by_peer.get(self.peer) == self.id:
            del self.owner.by_peer[self.peer]


class StreamTransport:
    """A TCP (or, with an SSL context, TLS) listener plus the connections it accepted or opened."""

    _ids = itertools.count(1)

    def __init__(
        self,
        on_message: MessageHandler,
        limits: StreamLimits,
        ssl_context: ssl.SSLContext | None = None,
        on_error: ErrorReplier | None = None,
    ) -> None:
        self.on_message = on_message
        self.on_error = on_error
        self.limits = limits
        self.ssl_context = ssl_context
        self.name = "TLS" if ssl_context is not None else "TCP"
        self.loop = asyncio.get_running_loop()
        self.connections: dict[int, _Connection] = {}
        self.by_peer: dict[tuple[str, int], int] = {}
        self.server: asyncio.Server | None = None
        self.local: tuple[str, int] = ("", 0)
        self._reaper: asyncio.Task[None] | None = None

    async def listen(self, host: str, port: int) -> None:
        self.server = await self.loop.create_server(
            lambda: _Connection(self, next(self._ids)),
            host,
            port,
            ssl=self.ssl_context,
            reuse_address=True,
            backlog=512,
        )
        sockname = self.server.sockets[0].getsockname()
        self.local = (sockname[0], sockname[1])
        self._reaper = asyncio.create_task(self._reap_idle())

    def send(self, data: bytes, destination: Destination) -> None:
        """Send over the message's connection, any connection to that peer, or a new one."""
        conn = self.connections.get(destination.connection_id or -1)
        if conn is None:
            conn_id = self.by_peer.get((destination.host, destination.port))
            conn = self.connections.get(conn_id) if conn_id is not None else None
        if conn is not None:
            conn.write(data)
            return
        task = self.loop.create_task(self._connect_and_send(data, destination))
        task.add_done_callback(_log_failure)

    async def _connect_and_send(self, data: bytes, destination: Destination) -> None:
        _, conn = await asyncio.wait_for(
            self.loop.create_connection(
                lambda: _Connection(self, next(self._ids)),
                destination.host,
                destination.port,
                ssl=self.ssl_context if self.ssl_context else None,
            ),
            timeout=10,
        )
        conn.write(data)

    async def _reap_idle(self) -> None:
        limits = self.limits
        while True:
            await asyncio.sleep(min(5.0, limits.partial_timeout / 2))
            now = self.loop.time()
            for conn in list(self.connections.values()):
                idle = now - conn.last_activity > limits.idle_timeout
                stuck = conn.partial_since is not None and now - conn.partial_since > limits.partial_timeout
                if (idle or stuck) and conn.transport is not None:
                    conn.transport.close()

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        if self.server is not None:
            self.server.close()
        for conn in list(self.connections.values()):
            if conn.transport is not None:
                conn.transport.abort()
        if self.server is not None:
            await self.server.wait_closed()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.info("could not open a connection: %s", task.exception())
