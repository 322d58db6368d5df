"""Bound RTP/RTCP socket pairs kept open between calls and handed to the next call.

Why: binding and closing two UDP sockets per leg (four per relayed call, each a few
syscalls plus the event loop's reader registration) was a large share of a call set-up's
CPU (docs/benchmarks.md, issue 5). A closed leg's sockets come here instead; the next leg
takes the pair that has been idle longest (first in, first out), so a port is not reused at
once, as :class:`~media.stream.PortPool`'s round robin intends.

Nothing of the old call survives a reuse: the stream that takes a pair is a new
:class:`~media.stream.RtpStream` (no latched source, fresh statistics, a new SSRC and
sequence space); datagrams that arrive while the pair is idle are read and dropped (the
loop keeps reading it, into an :class:`IdleWatch`) and what is still queued is drained at
reuse; and those of the old call's peers that went on sending after the call ended are
handed to the new stream as *refused*: it will not latch onto them (a phone still streaming
to a port whose call ended cannot take over the next call on that port), unless signalling
names one as the new peer. A peer that stopped at the BYE is not refused: the same phone
calling again may well get the same port, and behind NAT its source is not what its SDP
says.

The pool is bounded (``size`` pairs): a pair given back to a full pool is closed and its
port returned to the port range. Pairs stay bound to ports of the engine's range, so the
range is respected; ports held by another process were already skipped when first bound.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from media.udp import UdpSocket

__all__ = ["IdlePair", "IdleWatch", "SocketPool"]

Address = tuple[str, int]


class IdleWatch:
    """The receiver of an idle pair's sockets: drops every datagram, and notes which of the
    ended call's peer addresses are still sending (a phone that missed or ignored the BYE)."""

    __slots__ = ("peers", "streaming")

    def __init__(self, peers: frozenset[Address]) -> None:
        self.peers = peers
        self.streaming: set[Address] = set()

    def datagram_received(self, data: object, addr: Address) -> None:
        if addr in self.peers:
            self.streaming.add(addr)


@dataclass(frozen=True, slots=True)
class IdlePair:
    """An RTP socket (and its RTCP socket, unless muxed) waiting for the next leg; both
    still read by the event loop, into ``watch``."""

    port: int  # the RTP socket's
    rtp: UdpSocket
    rtcp: UdpSocket | None
    watch: IdleWatch

    @property
    def refused(self) -> frozenset[Address]:
        """The old call's peers that went on sending after it ended: the next stream must
        not latch onto them (a peer that stopped, as phones do at the BYE, may call again
        from the same address, behind NAT too, and latch as usual)."""
        return frozenset(self.watch.streaming)


class SocketPool:
    """Up to ``size`` idle socket pairs; ``on_close(port)`` is told when one is closed for
    good (the engine returns the port to its range)."""

    def __init__(self, size: int, on_close: Callable[[int], None] | None = None) -> None:
        if size < 0:
            raise ValueError(f"socket pool size {size} is negative")
        self.size = size
        self._on_close = on_close
        self._idle: deque[IdlePair] = deque()

    def __len__(self) -> int:
        return len(self._idle)

    def take(self) -> IdlePair | None:
        """The longest idle pair, with nothing left queued on it; None when empty."""
        if not self._idle:
            return None
        pair = self._idle.popleft()
        pair.rtp.drain()  # what arrived since the loop last read it, seen by the watch
        if pair.rtcp is not None:
            pair.rtcp.drain()
        return pair

    def give(self, pair: IdlePair) -> None:
        """Keep a closed leg's sockets for a later leg (or close them: the pool is full)."""
        if len(self._idle) >= self.size:
            self.close_pair(pair)
            return
        self._idle.append(pair)

    def close(self) -> None:
        """Close every idle pair (the engine stops)."""
        while self._idle:
            self.close_pair(self._idle.popleft())

    def close_pair(self, pair: IdlePair) -> None:
        """Close a pair for good and give its port back."""
        pair.rtp.close()
        if pair.rtcp is not None:
            pair.rtcp.close()
        if self._on_close is not None:
            self._on_close(pair.port)
