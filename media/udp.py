"""A bare non-blocking UDP socket driven by ``loop.add_reader``: the transport of RTP ports.

asyncio's datagram transport (uvloop's too) makes a new ``bytes`` object and wakes the
protocol once per datagram, and queues sends it cannot make at once. An RTP port needs
none of that: each wake-up here drains every queued datagram with ``recvfrom_into`` one
reused buffer, and a send the kernel cannot take right now is dropped (late audio is
worthless; RTP counts it as loss): ``sendto`` is the socket's own and raises OSError,
which every sender of the media package catches. That saves a couple of microseconds per
packet (docs/benchmarks.md "relay fast path").

The protocol's ``datagram_received(data, addr)`` gets a ``memoryview`` of the buffer that
is only valid during the call: it must copy what it keeps (or rewrite it in place and send
it on, as the relay does).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, Protocol

__all__ = ["DISCARD", "DatagramReceiver", "UdpSocket", "open_udp"]

_MAX_DATAGRAM = 2048  # larger than any RTP packet we accept from a LAN phone or a trunk
_BUFFER = _MAX_DATAGRAM + 1  # one byte more: a datagram that fills it was cut by the kernel
_DRAIN = 64  # datagrams per wake-up at most, so one flooded port cannot starve the rest


class DatagramReceiver(Protocol):
    """What an :class:`UdpSocket` delivers to."""

    def datagram_received(self, data: memoryview, addr: tuple[str, int]) -> None: ...


class _Discard:
    """The receiver of an idle pooled socket: what arrives is read and dropped."""

    def datagram_received(self, data: memoryview, addr: tuple[str, int]) -> None:
        return None


DISCARD = _Discard()


class UdpSocket:
    """The transport-like face of one bound UDP socket: ``sendto`` (raises OSError),
    ``get_extra_info``, ``close``; reading is registered with the loop until :meth:`close`.
    :meth:`retarget` hands it to another receiver (a pooled socket's next call) without
    leaving the loop's readers (registering a reader costs more than binding a socket)."""

    __slots__ = ("_loop", "_sock", "_target", "closed", "sendto")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket, receiver: DatagramReceiver
    ) -> None:
        self._loop = loop
        self._sock = sock
        self.closed = False
        # the socket's own method: no Python frame per packet; raises OSError (a full
        # socket buffer, an unreachable peer), which senders catch: the packet is lost
        self.sendto = sock.sendto
        buf = bytearray(_BUFFER)
        view = memoryview(buf)
        recv = sock.recvfrom_into
        target = self._target = [receiver.datagram_received]

        def readable() -> None:
            deliver = target[0]
            for _ in range(_DRAIN):
                try:
                    n, addr = recv(buf)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    continue  # e.g. a queued ICMP error; the next datagram may be fine
                # a cut datagram is handed on empty: the stream counts it as malformed
                deliver(view[:n] if n <= _MAX_DATAGRAM else view[:0], addr)

        loop.add_reader(sock.fileno(), readable)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``sockname`` and ``socket``, as asyncio transports answer them."""
        if name == "sockname":
            return self._sock.getsockname()
        if name == "socket":
            return self._sock
        return default

    def is_closing(self) -> bool:
        return self.closed

    def retarget(self, receiver: DatagramReceiver) -> None:
        """Deliver to ``receiver`` from the next datagram on."""
        self._target[0] = receiver.datagram_received

    def drain(self, limit: int = 4096) -> int:
        """Read and drop what is queued now (at most ``limit``); how many that was."""
        for count in range(limit):
            try:
                self._sock.recv(1)
            except (BlockingIOError, InterruptedError):
                return count
            except OSError:
                continue  # a queued ICMP error; the datagrams behind it still need reading
        return limit

    def close(self) -> None:
        """Stop reading and close the socket; idempotent."""
        if self.closed:
            return
        self.closed = True
        if not self._loop.is_closed():
            self._loop.remove_reader(self._sock.fileno())
        self._sock.close()


def open_udp(
    loop: asyncio.AbstractEventLoop, receiver: DatagramReceiver, host: str, port: int
) -> UdpSocket:
    """Bind ``host:port`` (0: any free port) over IPv4 and start delivering to ``receiver``;
    OSError (EADDRINUSE above all) propagates with nothing left open."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return UdpSocket(loop, sock, receiver)
