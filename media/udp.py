"""Bare non-blocking UDP sockets for RTP ports, read in batches: the transport of RTP ports.

asyncio's datagram transport (uvloop's too) makes a new ``bytes`` object and wakes the
protocol once per datagram, and queues sends it cannot make at once. An RTP port needs
none of that. Each socket here reads with ``recvfrom_into`` one reused buffer, and a send the
kernel cannot take right now is dropped (late audio is worthless; RTP counts it as loss):
``sendto`` is the socket's own and raises OSError, which every sender of the media package
catches.

Reading is batched across ports ("interrupt coalescing", as network drivers do under load):
every socket of an event loop sits in one epoll set (:class:`_Poller`). While idle, that
set's descriptor is an ordinary reader of the loop, so the first datagram wakes it; the
wake-up reads the ready ports, then the poller stops listening and polls the set again
``POLL_INTERVAL`` later, and so on while datagrams keep coming; after ``_IDLE_POLLS`` polls
in a row that find none it goes back to listening. Phones send every 20 ms, often in step
(a load generator's slots, a trunk's batch), so one empty poll says little: going back to
listening at once cost an ``epoll_ctl`` pair and a wake-up per burst, about a tenth of a
system call per relayed packet (docs/benchmarks.md, issue 5), while an idle poll is one
``epoll_wait``. At 50 packets/s per port one wake-up then carries the packets of many
ports instead of one each, and the wake-ups were most of a relayed packet's cost at a few
hundred calls (docs/benchmarks.md, "relay fast path"), for at most ``POLL_INTERVAL`` of
added delay. A poll reads one datagram from each ready port, then asks the set again (it is
level-triggered: a port with more queued is reported again) and goes round until none is
ready or ``_ROUNDS`` have run: one ``epoll_wait`` per round instead of one ``recvfrom``
failing with EAGAIN per port, a burst on one port is read at once, and a flooded port
cannot starve the others (one datagram per round; the rest of its flood waits or overflows
its kernel buffer).

The protocol's ``datagram_received(data, addr)`` gets a ``memoryview`` of the buffer that
is only valid during the call: it must copy what it keeps (or rewrite it in place and send
it on, as the relay does).
"""

from __future__ import annotations

import asyncio
import select
import socket
import weakref
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["POLL_INTERVAL", "DatagramReceiver", "UdpSocket", "open_udp"]

_MAX_DATAGRAM = 2048  # larger than any RTP packet we accept from a LAN phone or a trunk
_BUFFER = _MAX_DATAGRAM + 1  # one byte more: a datagram that fills it was cut by the kernel
POLL_INTERVAL = 0.001  # seconds between polls while datagrams keep arriving
_MAX_EVENTS = 4096  # ports served per round at most; the rest wait for the next round
_ROUNDS = 16  # rounds per poll at most: a port's burst beyond that waits for the next poll
_IDLE_POLLS = 4  # empty polls in a row before listening again (at most 4 ms of them)


class DatagramReceiver(Protocol):
    """What an :class:`UdpSocket` delivers to."""

    def datagram_received(self, data: memoryview, addr: tuple[str, int]) -> None: ...


_Port = tuple[
    Callable[[bytearray], tuple[int, Any]], bytearray, memoryview, list[Callable[..., object]]
]
"""What the poller reads a port with: the socket's ``recvfrom_into``, its buffer, a view of
the buffer, and a one-item list holding the receiver's ``datagram_received``."""


class _Poller:
    """The sockets of one event loop in one epoll set, read in batches (module doc)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._epoll = select.epoll()
        self._readers: dict[int, _Port] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._listening = False
        self._closed = False
        self._idle = 0  # empty polls in a row

    def add(self, fd: int, port: _Port) -> None:
        self._epoll.register(fd, select.EPOLLIN)
        self._readers[fd] = port
        if not self._listening and self._timer is None:
            self._listen()

    def remove(self, fd: int) -> None:
        """Forget ``fd`` (before it is closed); the last one closes the set."""
        if self._readers.pop(fd, None) is None:
            return
        self._epoll.unregister(fd)
        if not self._readers:
            self._close()

    def _listen(self) -> None:
        self._loop.add_reader(self._epoll.fileno(), self._poll)
        self._listening = True

    def _poll(self) -> None:
        """Read the ready ports, one datagram each, round after round while any is still
        ready (a burst on one port, or more arriving meanwhile); poll again soon unless
        ``_IDLE_POLLS`` found none. The read is written out here rather than called per
        port: this loop runs once per relayed packet."""
        self._timer = None
        poll = self._epoll.poll
        readers = self._readers
        ready = poll(0, _MAX_EVENTS)
        found = bool(ready)
        for _ in range(_ROUNDS):
            if not ready:
                break
            for fd, _ in ready:
                port = readers.get(fd)
                if port is None:
                    continue
                recv, buf, view, target = port
                try:
                    n, addr = recv(buf)
                except OSError:  # EAGAIN, or a queued ICMP error: the datagrams behind it next
                    continue
                try:
                    # a cut datagram is handed on empty: the stream counts it as malformed
                    target[0](view[:n] if n <= _MAX_DATAGRAM else view[:0], addr)
                except Exception as exc:  # a sink's bug must not stop the other ports
                    self._loop.call_exception_handler(
                        {"message": "RTP receive failed", "exception": exc})
            if self._closed:  # a sink closed the last socket (a call ended on this packet)
                return
            ready = poll(0, _MAX_EVENTS)
        if found:
            self._idle = 0
        elif self._listening:
            return  # woken with nothing left to read: keep listening
        else:
            self._idle += 1
            if self._idle >= _IDLE_POLLS:
                self._listen()
                return
        if self._listening:
            self._loop.remove_reader(self._epoll.fileno())
            self._listening = False
        self._timer = self._loop.call_later(POLL_INTERVAL, self._poll)

    def _close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._listening and not self._loop.is_closed():
            self._loop.remove_reader(self._epoll.fileno())
        self._listening = False
        self._epoll.close()
        if _pollers.get(self._loop) is self:
            del _pollers[self._loop]


_pollers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Poller] = (
    weakref.WeakKeyDictionary())


def _poller(loop: asyncio.AbstractEventLoop) -> _Poller:
    poller = _pollers.get(loop)
    if poller is None:
        poller = _pollers[loop] = _Poller(loop)
    return poller


class UdpSocket:
    """The transport-like face of one bound UDP socket: ``sendto`` (raises OSError),
    ``get_extra_info``, ``close``; it is read (see :class:`_Poller`) until :meth:`close`.
    :meth:`retarget` hands it to another receiver (a pooled socket's next call) without
    leaving the poller's set (registering costs more than binding a socket)."""

    __slots__ = ("_poller", "_read", "_sock", "_target", "closed", "sendto")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket, receiver: DatagramReceiver
    ) -> None:
        self._sock = sock
        self.closed = False
        # the socket's own method: no Python frame per packet; raises OSError (a full
        # socket buffer, an unreachable peer), which senders catch: the packet is lost
        self.sendto = sock.sendto
        buf = bytearray(_BUFFER)
        view = memoryview(buf)
        recv = sock.recvfrom_into
        target = self._target = [receiver.datagram_received]

        def read_one() -> bool:
            """One datagram to the receiver; False when none was queued."""
            try:
                n, addr = recv(buf)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:  # a queued ICMP error: the datagrams behind it come next
                return True
            # a cut datagram is handed on empty: the stream counts it as malformed
            target[0](view[:n] if n <= _MAX_DATAGRAM else view[:0], addr)
            return True

        self._read = read_one
        self._poller = _poller(loop)
        self._poller.add(sock.fileno(), (recv, buf, view, target))

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

    def drain(self) -> None:
        """Deliver what is queued now, without waiting for the poller (a pooled socket
        before it changes hands: to the receiver that watched it while idle); bounded."""
        for _ in range(4096):  # more than a socket buffer holds
            if not self._read():
                return

    def close(self) -> None:
        """Stop reading and close the socket; idempotent."""
        if self.closed:
            return
        self.closed = True
        self._poller.remove(self._sock.fileno())
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
