"""One RTP stream endpoint: a UDP port (plus RTCP on port+1, or muxed) for one call leg.

Security (issue 4): symmetric RTP (RFC 4961) with source latching. The first valid RTP
packet fixes the peer's address; from then on packets from any other address are dropped
and counted, so a stranger spraying the port range cannot inject or hijack audio ("RTP
bleed"). Only a new offer from signalling (:meth:`RtpStream.set_remote`) unlatches.
Malformed datagrams are counted and dropped, never raised into the event loop.

The receive path is hot (50 packets/s per leg, thousands of legs on one core), so it does
one ``unpack_from`` of the fixed header and hands ``(data, pt, seq, ts, ssrc)`` straight to
the sink the engine installed; packets with CSRCs, extensions or padding (rare in
telephony) take the full :class:`~media.rtp.RtpPacket` parse.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import errno
import random
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass

from media.rtcp import (
    Bye,
    ReceiverReport,
    ReportBlock,
    RtcpParseError,
    SenderReport,
    SourceDescription,
    ntp_timestamp,
    parse_rtcp,
    serialize_rtcp,
)
from media.rtp import RtpPacket, RtpParseError
from media.socketpool import IdlePair, IdleWatch, SocketPool
from media.stats import ReceiverSnapshot, ReceiverStats
from media.udp import UdpSocket, open_udp

__all__ = [
    "Address",
    "AudioSink",
    "Direction",
    "NoFreePortError",
    "PortPool",
    "RtpSender",
    "RtpStream",
    "StreamStats",
    "open_stream",
    "rtp_payload",
]

Address = tuple[str, int]
AudioSink = Callable[[bytes, int, int, int, int], None]
"""Called with ``(datagram, payload_type, seq, timestamp, ssrc)`` for each valid packet."""

_HEADER = struct.Struct("!BBHII")
_unpack_header = _HEADER.unpack_from
_SEQ_TS_SSRC = struct.Struct("!HII")
_GAP_SECONDS = 0.05  # a send this much later than expected starts a new talkspurt
_BIND_ATTEMPTS = 32


class Direction(enum.StrEnum):
    """Media direction from our side, as SDP spells it."""

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"


class NoFreePortError(OSError):
    """Every port of the configured range is taken."""


def rtp_payload(data: bytes) -> bytes:
    """Payload of a packet that passed :class:`RtpStream`'s checks."""
    if data[0] & 0x3F == 0:
        return data[12:]
    return RtpPacket.parse(data).payload


class PortPool:
    """Even RTP ports of ``first..last`` handed out round robin (RFC 3550 section 11).

    Round robin rather than lowest-free so a port just released is not reused at once,
    where late packets of the old call would still arrive.
    """

    def __init__(self, first: int, last: int, *, start: int = 0) -> None:
        """``start`` picks where the round robin begins (an index, taken modulo the size)."""
        first += first % 2
        if not 0 < first < last <= 65535:
            raise ValueError(f"invalid RTP port range {first}..{last}")
        self._ports = range(first, last, 2)
        self._next = start % len(self._ports)
        self._taken: set[int] = set()

    def __len__(self) -> int:
        return len(self._ports) - len(self._taken)

    def take(self) -> int:
        """Reserve the next free even port."""
        for _ in range(len(self._ports)):
            port = self._ports[self._next]
            self._next = (self._next + 1) % len(self._ports)
            if port not in self._taken:
                self._taken.add(port)
                return port
        raise NoFreePortError(errno.EADDRINUSE, "no free port in the RTP port range")

    def jump(self) -> None:
        """Go on from a random place: called when a port was taken by another process,
        whose ports come in blocks (another switch's pool starts at the same first port),
        so the next ones in order are likely taken too."""
        self._next = random.randrange(len(self._ports))

    def release(self, port: int) -> None:
        """Give a port back; unknown ports are ignored (release is idempotent)."""
        self._taken.discard(port)


class RtpSender:
    """Our outgoing sequence space: SSRC, sequence number and timestamp that stay continuous.

    Prompts, mixed audio and relayed packets all go out through one sender per stream, so
    the far end sees one unbroken stream whatever the engine does (RFC 3550 section 5.1:
    the timestamp advances with real time, including silent gaps).
    """

    __slots__ = (
        "_clock_rate",
        "_gap_units",
        "octets",
        "packets",
        "seq",
        "span",
        "ssrc",
        "time",
        "ts",
    )

    def __init__(self, clock_rate: int, ssrc: int | None = None) -> None:
        self.clock_rate = clock_rate
        bits = secrets.randbits(80)  # one getrandom() for all three (RFC 3550 5.1, 8.1)
        self.ssrc = bits & 0xFFFFFFFF if ssrc is None else ssrc
        self.seq = (bits >> 32) & 0xFFFF  # last sent
        self.ts = bits >> 48  # last sent
        self.time: float | None = None  # when the last packet left
        self.span = 0  # samples in the last packet
        self.packets = 0
        self.octets = 0

    @property
    def clock_rate(self) -> int:
        """RTP timestamp units per second."""
        return self._clock_rate

    @clock_rate.setter
    def clock_rate(self, rate: int) -> None:
        self._clock_rate = rate
        self._gap_units = _GAP_SECONDS * rate

    def next_timestamp(self, now: float) -> tuple[int, bool]:
        """Timestamp for a packet sent at ``now`` and whether it starts a talkspurt."""
        if self.time is None:
            return self.ts, True
        elapsed = round((now - self.time) * self.clock_rate)
        if elapsed <= self.span + _GAP_SECONDS * self.clock_rate:
            return (self.ts + self.span) & 0xFFFFFFFF, False
        return (self.ts + elapsed) & 0xFFFFFFFF, True

    def header(self, payload_type: int, samples: int, now: float, marker: bool = False) -> bytes:
        """Fixed header for the next packet carrying ``samples`` samples."""
        last = self.time
        if last is not None and (now - last) * self.clock_rate <= self.span + self._gap_units:
            ts, gap = (self.ts + self.span) & 0xFFFFFFFF, False  # the usual, contiguous case
        else:
            ts, gap = self.next_timestamp(now)
        self.seq = (self.seq + 1) & 0xFFFF
        self.ts = ts
        self.time = now
        self.span = samples
        return _HEADER.pack(
            0x80, payload_type | (0x80 if marker or gap else 0), self.seq, ts, self.ssrc
        )


@dataclass(frozen=True, slots=True)
class StreamStats:
    """Monitoring view of one stream; ``remote_report`` is what the peer says it receives."""

    local: Address
    remote: Address | None
    latched: bool
    clock_rate: int  # RTP timestamp units per second (report blocks' jitter is in them)
    packets_received: int
    octets_received: int
    packets_sent: int
    octets_sent: int
    malformed: int
    foreign: int
    rtcp_received: int
    receiver: ReceiverSnapshot | None
    remote_report: ReportBlock | None


class RtpStream(asyncio.DatagramProtocol):
    """The protocol object of one RTP port; the engine installs ``on_audio``/``on_event``.

    ``on_event`` receives packets whose payload type is ``event_payload_type`` (RFC 4733
    telephone-events); everything else valid goes to ``on_audio``.
    """

    def __init__(
        self,
        *,
        clock_rate: int = 8000,
        rtcp_mux: bool = False,
        cname: str = "softswitch",
        time: Callable[[], float] | None = None,
    ) -> None:
        self._audio: AudioSink | None = None
        self._audio_sink: AudioSink | None = None
        self._audio_borrows = False
        self.on_event: AudioSink | None = None
        self.event_payload_type = -1
        self.rtcp_mux = rtcp_mux
        self.cname = cname
        self.sender = RtpSender(clock_rate)
        self.clock_rate = clock_rate
        self.transport: asyncio.DatagramTransport | None = None
        self.rtcp_transport: asyncio.DatagramTransport | None = None
        self.local: Address = ("0.0.0.0", 0)
        self.remote: Address | None = None
        self.remote_rtcp: Address | None = None
        self._source: Address | None = None  # latched peer
        self._refused: set[Address] = set()  # a reused port's previous peers: never latched
        self._time = time
        self._rx: ReceiverStats | None = None
        self._remote_report: ReportBlock | None = None
        self.packets_received = 0
        self.octets_received = 0
        self.malformed = 0
        self.foreign = 0
        self.rtcp_received = 0
        self.closed = False
        self.sending = True
        self.receiving = True

    # -- configuration -------------------------------------------------------------------

    def set_remote(self, addr: Address | None, rtcp: Address | None = None) -> None:
        """Where signalling says the peer is; a new offer also unlatches the old source."""
        self.remote = addr
        self._source = None
        if self._refused:  # signalling names the peer: it is not a stale one
            self._refused.difference_update((addr, rtcp))
        if rtcp is not None:
            self.remote_rtcp = rtcp
        elif addr is not None:
            self.remote_rtcp = addr if self.rtcp_mux else (addr[0], addr[1] + 1)
        else:
            self.remote_rtcp = None

    def set_direction(self, direction: Direction) -> None:
        """Our side of the SDP direction (RFC 3264 section 6.1): a peer putting us on hold
        with ``a=sendonly`` makes us ``RECVONLY``; ``a=inactive`` makes us ``INACTIVE``.
        RTCP keeps flowing both ways whatever the direction."""
        self.sending = direction in (Direction.SENDRECV, Direction.SENDONLY)
        self.receiving = direction in (Direction.SENDRECV, Direction.RECVONLY)

    def set_clock_rate(self, clock_rate: int) -> None:
        """The negotiated codec's RTP clock rate (timestamps and jitter use it)."""
        self.clock_rate = clock_rate
        self.sender.clock_rate = clock_rate
        self._rx = None

    @property
    def latched(self) -> bool:
        """True once the first valid packet fixed the peer's address."""
        return self._source is not None

    # -- receive -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.local = transport.get_extra_info("sockname")[:2]

    def datagram_received(self, data: bytes | memoryview, addr: Address) -> None:
        """One datagram from the socket; ``data`` may be a view of a reused buffer.

        The usual packet (the latched peer, a plain 12-byte header) goes through with one
        unpack and one statistics call; sinks that keep the data get ``bytes``, a sink that
        declares ``borrows_buffer`` (the relay) gets the view to rewrite in place. Every
        attribute is read once into a local: this runs for each relayed packet.
        """
        source = self._source
        if addr != source and source is not None:
            self.foreign += 1
            return
        try:
            first, second, seq, ts, ssrc = _unpack_header(data)
        except struct.error:  # shorter than a fixed header
            self.malformed += 1
            return
        if first != 0x80 or 192 <= second <= 223:  # rare: RTCP, CSRCs, extension, padding
            if not self._unusual(data, addr, first, second):
                return
        if source is None:
            if addr in self._refused:  # the previous call's peer on this reused port
                self.foreign += 1
                return
            self._latch(addr)
        self.packets_received += 1
        self.octets_received += len(data)
        rx = self._rx
        if rx is None or rx.ssrc != ssrc:
            rx = self._rx = ReceiverStats(ssrc, self.clock_rate)
        time = self._time
        if time is not None:
            rx.on_packet(seq, ts, time())
        if not self.receiving:
            return  # on hold / inactive: counted for RTCP, not heard
        pt = second & 0x7F
        if pt != self.event_payload_type:
            sink = self._audio
            if sink is not None:
                if self._audio_borrows:
                    sink(data, pt, seq, ts, ssrc)
                else:
                    sink(data if data.__class__ is bytes else bytes(data), pt, seq, ts, ssrc)
        elif self.on_event is not None:
            self.on_event(bytes(data), pt, seq, ts, ssrc)

    def _unusual(self, data: bytes | memoryview, addr: Address, first: int, second: int) -> bool:
        """The checks a plain packet skips; False when ``data`` was dealt with (RTCP muxed
        on the RTP port, RFC 5761 section 4) or dropped as malformed."""
        if first & 0xC0 != 0x80:
            self.malformed += 1
            return False
        if 192 <= second <= 223:
            if self.rtcp_mux:
                self.rtcp_received_from(bytes(data), addr)
            else:
                self.malformed += 1
            return False
        try:  # CSRCs, an extension or padding: check them all
            RtpPacket.parse(bytes(data))
        except RtpParseError:
            self.malformed += 1
            return False
        return True

    @property
    def on_audio(self) -> AudioSink | None:
        """Where valid audio (anything but RFC 4733 events) goes."""
        return self._audio_sink

    @on_audio.setter
    def on_audio(self, sink: AudioSink | None) -> None:
        self._audio_borrows = bool(getattr(sink, "borrows_buffer", False))
        # a callable object (the relay) is called through its bound ``__call__``: calling
        # the object itself looks the method up on its type for every packet
        self._audio = sink.__call__ if self._audio_borrows else sink  # type: ignore[union-attr]
        self._audio_sink = sink

    def _latch(self, addr: Address) -> None:
        self._source = addr
        self.remote = addr
        if self.rtcp_mux:
            self.remote_rtcp = addr
        elif self.remote_rtcp is None or self.remote_rtcp[0] != addr[0]:
            self.remote_rtcp = (addr[0], addr[1] + 1)

    def rtcp_received_from(self, data: bytes, addr: Address) -> None:
        """An RTCP datagram from the RTCP port or muxed; only the latched host is believed."""
        if self._source is None or addr[0] != self._source[0]:
            self.foreign += 1
            return
        try:
            packets = parse_rtcp(data)
        except RtcpParseError:
            self.malformed += 1
            return
        self.rtcp_received += 1
        now = self._time() if self._time is not None else 0.0
        for packet in packets:
            rx = self._rx
            if isinstance(packet, SenderReport) and rx is not None and packet.ssrc == rx.ssrc:
                rx.on_sender_report(packet, now)
            if isinstance(packet, (SenderReport, ReceiverReport)):
                for block in packet.reports:
                    if block.ssrc == self.sender.ssrc:
                        self._remote_report = block

    # -- send ----------------------------------------------------------------------------

    def send_payload(
        self, payload: bytes, payload_type: int, samples: int, now: float, marker: bool = False
    ) -> None:
        """Send one packet from our sender; dropped while the peer's address is unknown."""
        remote = self.remote
        transport = self.transport
        if remote is None or transport is None or self.closed or not self.sending:
            return
        sender = self.sender
        try:
            transport.sendto(sender.header(payload_type, samples, now, marker) + payload, remote)
        except OSError:  # a full buffer or an unreachable peer: lost, as on a wire
            return
        sender.packets += 1
        sender.octets += len(payload)

    def send_event(self, payload: bytes, payload_type: int, timestamp: int, marker: bool) -> None:
        """Send a packet stamped ``timestamp`` (RFC 4733: every packet of a press carries the
        onset's timestamp); it takes the next sequence number but leaves audio timing alone."""
        remote = self.remote
        transport = self.transport
        if remote is None or transport is None or self.closed or not self.sending:
            return
        sender = self.sender
        sender.seq = (sender.seq + 1) & 0xFFFF
        header = _HEADER.pack(
            0x80,
            payload_type | (0x80 if marker else 0),
            sender.seq,
            timestamp & 0xFFFFFFFF,
            sender.ssrc,
        )
        try:
            transport.sendto(header + payload, remote)
        except OSError:  # a full buffer or an unreachable peer: lost, as on a wire
            return
        sender.packets += 1
        sender.octets += len(payload)

    def send_rtcp_report(self, now: float, wall_clock: float) -> bytes | None:
        """Send an SR (when we have sent media) or RR with SDES CNAME; returns the datagram."""
        dest = self.remote_rtcp
        transport = self.transport if self.rtcp_mux else self.rtcp_transport
        if dest is None or transport is None or self.closed:
            return None
        blocks = (self._rx.report_block(now),) if self._rx is not None else ()
        sender = self.sender
        report: SenderReport | ReceiverReport
        if sender.packets:
            rtp_ts, _ = sender.next_timestamp(now)
            report = SenderReport(
                sender.ssrc,
                ntp_timestamp(wall_clock),
                rtp_ts,
                sender.packets,
                sender.octets,
                blocks,
            )
        else:
            report = ReceiverReport(sender.ssrc, blocks)
        data = serialize_rtcp([report, SourceDescription.cname(sender.ssrc, self.cname)])
        try:
            transport.sendto(data, dest)
        except OSError:  # a full buffer or an unreachable peer: lost, as on a wire
            return None
        return data

    def stats(self) -> StreamStats:
        """Counters and RTCP statistics at this moment."""
        return StreamStats(
            local=self.local,
            remote=self.remote,
            latched=self.latched,
            clock_rate=self.clock_rate,
            packets_received=self.packets_received,
            octets_received=self.octets_received,
            packets_sent=self.sender.packets,
            octets_sent=self.sender.octets,
            malformed=self.malformed,
            foreign=self.foreign,
            rtcp_received=self.rtcp_received,
            receiver=self._rx.snapshot() if self._rx is not None else None,
            remote_report=self._remote_report,
        )

    def refuse(self, peers: frozenset[Address]) -> None:
        """Never latch onto these addresses (a reused port's previous call's peers) unless
        :meth:`set_remote` names one."""
        self._refused.update(peers)

    def close(self, *, bye: bool = True) -> None:
        """Send RTCP BYE (RFC 3550 section 6.6) and close both sockets."""
        if self._finish(bye):
            for t in (self.transport, self.rtcp_transport):
                if t is not None:
                    t.close()

    def close_keeping_sockets(self, *, bye: bool = True) -> IdlePair | None:
        """Like :meth:`close`, but hand the still-bound sockets over for another leg (what
        arrives meanwhile is dropped, noting which of this call's peers still send); None when
        already closed or not made of :class:`~media.udp.UdpSocket`s (then closed)."""
        if not self._finish(bye):
            return None
        rtp, rtcp = self.transport, self.rtcp_transport
        if (not isinstance(rtp, UdpSocket) or rtp.closed
                or not (rtcp is None or isinstance(rtcp, UdpSocket) and not rtcp.closed)):
            for t in (rtp, rtcp):
                if t is not None:
                    t.close()
            return None
        watch = IdleWatch(frozenset(a for a in (self._source, self.remote, self.remote_rtcp)
                                    if a))
        rtp.retarget(watch)
        if rtcp is not None:
            rtcp.retarget(watch)
        return IdlePair(self.local[1], rtp, rtcp, watch)

    def _finish(self, bye: bool) -> bool:
        """The BYE and the end of delivery; False when already closed."""
        if self.closed:
            return False
        transport = self.transport if self.rtcp_mux else self.rtcp_transport
        if bye and transport is not None and self.remote_rtcp is not None and self.sender.packets:
            report = ReceiverReport(self.sender.ssrc)
            bye_packet = serialize_rtcp([report, Bye((self.sender.ssrc,))])
            with contextlib.suppress(OSError):
                transport.sendto(bye_packet, self.remote_rtcp)
        self.closed = True
        self.on_audio = self.on_event = None
        return True


class _RtcpPort:
    """The RTCP socket at port+1: forwards every datagram to its stream."""

    def __init__(self, stream: RtpStream) -> None:
        self._stream = stream

    def datagram_received(self, data: bytes | memoryview, addr: Address) -> None:
        self._stream.rtcp_received_from(bytes(data), addr)


async def open_stream(
    host: str = "127.0.0.1",
    *,
    pool: PortPool | None = None,
    rtcp_mux: bool = False,
    clock_rate: int = 8000,
    cname: str = "softswitch",
    sockets: SocketPool | None = None,
) -> RtpStream:
    """A new stream on ``host``: an idle pair from ``sockets`` if there is one, else an even
    port from ``pool`` (or any free port) bound now.

    Without RTCP mux the odd port above must be free too; taken pairs are skipped, up to
    a bounded number of attempts. Both sockets are bare :class:`~media.udp.UdpSocket`s.
    """
    loop = asyncio.get_running_loop()
    idle = sockets.take() if sockets is not None else None
    if idle is not None and (idle.rtcp is None) == rtcp_mux:
        stream = RtpStream(clock_rate=clock_rate, rtcp_mux=rtcp_mux, cname=cname, time=loop.time)
        stream.refuse(idle.refused)
        idle.rtp.retarget(stream)
        stream.connection_made(idle.rtp)  # type: ignore[arg-type]
        if idle.rtcp is not None:
            idle.rtcp.retarget(_RtcpPort(stream))
            stream.rtcp_transport = idle.rtcp  # type: ignore[assignment]
        return stream
    if idle is not None and sockets is not None:  # of the other mux mode: not for us
        sockets.close_pair(idle)
    last_error: OSError | None = None
    for _ in range(_BIND_ATTEMPTS):
        port = pool.take() if pool is not None else 0
        stream = RtpStream(clock_rate=clock_rate, rtcp_mux=rtcp_mux, cname=cname, time=loop.time)
        try:
            stream.connection_made(open_udp(loop, stream, host, port))  # type: ignore[arg-type]
            if not rtcp_mux:
                stream.rtcp_transport = open_udp(  # type: ignore[assignment]
                    loop, _RtcpPort(stream), host, stream.local[1] + 1)
        except OSError as exc:
            last_error = exc
            stream.close(bye=False)
            if pool is not None:
                pool.release(port)
            if _errno_of(exc) != errno.EADDRINUSE:
                raise
            if pool is not None:
                pool.jump()
            continue
        return stream
    raise NoFreePortError(
        errno.EADDRINUSE, f"no free RTP port pair after {_BIND_ATTEMPTS} tries: {last_error}"
    )


def _errno_of(exc: OSError) -> int | None:
    """The errno of a failed bind: uvloop raises a bare OSError whose cause carries it."""
    if exc.errno is not None:
        return exc.errno
    cause = exc.__cause__
    return cause.errno if isinstance(cause, OSError) else None
