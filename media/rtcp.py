"""RTCP packets (RFC 3550 section 6.4-6.6): SR, RR, SDES and BYE, alone or compound.

Pure data classes plus ``parse_rtcp``/``serialize_rtcp``. Unknown packet types (APP, RTPFB,
XR...) are kept as :class:`UnknownRtcp` so a compound packet is never rejected for carrying
something we do not interpret. Statistics live in :mod:`media.stats`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "Bye",
    "ReceiverReport",
    "ReportBlock",
    "RtcpPacket",
    "RtcpParseError",
    "SdesChunk",
    "SenderReport",
    "SourceDescription",
    "UnknownRtcp",
    "ntp_middle32",
    "ntp_timestamp",
    "parse_rtcp",
    "serialize_rtcp",
]

PT_SR, PT_RR, PT_SDES, PT_BYE = 200, 201, 202, 203
SDES_CNAME = 1
NTP_UNIX_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01

_COMMON = struct.Struct("!BBH")
_BLOCK = struct.Struct("!IBBHIIII")  # ssrc, fraction, lost(24 bits as B+H), ehsn, jitter, lsr, dlsr
_SR_INFO = struct.Struct("!IIIII")


class RtcpParseError(ValueError):
    """A datagram is not valid RTCP; the message says why."""


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """Reception statistics about one source (RFC 3550 section 6.4.1)."""

    ssrc: int
    fraction_lost: int  # 0..255, fixed point /256, since the previous report
    cumulative_lost: int  # signed 24-bit: duplicates can make it negative
    highest_sequence: int  # extended: cycles << 16 | seq
    jitter: int  # timestamp units
    last_sr: int = 0  # middle 32 bits of the last SR's NTP timestamp
    delay_since_last_sr: int = 0  # 1/65536 s

    def pack(self) -> bytes:
        lost = max(-0x800000, min(0x7FFFFF, self.cumulative_lost)) & 0xFFFFFF
        return _BLOCK.pack(
            self.ssrc, self.fraction_lost, lost >> 16, lost & 0xFFFF,
            self.highest_sequence & 0xFFFFFFFF, self.jitter, self.last_sr,
            self.delay_since_last_sr,
        )

    @classmethod
    def unpack(cls, data: bytes, offset: int) -> ReportBlock:
        ssrc, fraction, lost_hi, lost_lo, ehsn, jitter, lsr, dlsr = _BLOCK.unpack_from(data, offset)
        lost = (lost_hi << 16) | lost_lo
        if lost & 0x800000:
            lost -= 0x1000000
        return cls(ssrc, fraction, lost, ehsn, jitter, lsr, dlsr)


@dataclass(frozen=True, slots=True)
class SenderReport:
    """SR (PT 200): sender info plus report blocks about sources we receive."""

    ssrc: int
    ntp_timestamp: int  # 64-bit NTP: seconds since 1900 << 32 | fraction
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()

    def serialize(self) -> bytes:
        body = struct.pack("!I", self.ssrc) + _SR_INFO.pack(
            self.ntp_timestamp >> 32, self.ntp_timestamp & 0xFFFFFFFF,
            self.rtp_timestamp & 0xFFFFFFFF, self.packet_count & 0xFFFFFFFF,
            self.octet_count & 0xFFFFFFFF,
        )
        return _frame(PT_SR, len(self.reports), body + b"".join(b.pack() for b in self.reports))


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    """RR (PT 201): report blocks from a participant that is not sending."""

    ssrc: int
    reports: tuple[ReportBlock, ...] = ()

    def serialize(self) -> bytes:
        body = struct.pack("!I", self.ssrc) + b"".join(b.pack() for b in self.reports)
        return _frame(PT_RR, len(self.reports), body)


@dataclass(frozen=True, slots=True)
class SdesChunk:
    """One source's SDES items as (type, text) pairs; type 1 is CNAME."""

    ssrc: int
    items: tuple[tuple[int, bytes], ...]

    @property
    def cname(self) -> str | None:
        for kind, value in self.items:
            if kind == SDES_CNAME:
                return value.decode("utf-8", "replace")
        return None


@dataclass(frozen=True, slots=True)
class SourceDescription:
    """SDES (PT 202)."""

    chunks: tuple[SdesChunk, ...]

    @classmethod
    def cname(cls, ssrc: int, cname: str) -> SourceDescription:
        """The one SDES every compound RTCP packet must carry (RFC 3550 section 6.1)."""
        return cls((SdesChunk(ssrc, ((SDES_CNAME, cname.encode()),)),))

    def serialize(self) -> bytes:
        body = bytearray()
        for chunk in self.chunks:
            body += struct.pack("!I", chunk.ssrc)
            for kind, value in chunk.items:
                if len(value) > 255:
                    raise ValueError(f"SDES item of {len(value)} bytes > 255")
                body += bytes((kind, len(value))) + value
            body += bytes(4 - len(body) % 4)  # null terminator(s) up to a word boundary
        return _frame(PT_SDES, len(self.chunks), bytes(body))


@dataclass(frozen=True, slots=True)
class Bye:
    """BYE (PT 203): these sources are leaving, with an optional reason."""

    ssrcs: tuple[int, ...]
    reason: str = ""

    def serialize(self) -> bytes:
        body = b"".join(struct.pack("!I", s) for s in self.ssrcs)
        if self.reason:
            text = self.reason.encode()[:255]
            body += bytes((len(text),)) + text
            body += bytes(-len(body) % 4)
        return _frame(PT_BYE, len(self.ssrcs), body)


@dataclass(frozen=True, slots=True)
class UnknownRtcp:
    """A packet type we pass over (APP, feedback, XR); kept whole for relaying."""

    packet_type: int
    count: int
    body: bytes

    def serialize(self) -> bytes:
        return _frame(self.packet_type, self.count, self.body)


RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Bye | UnknownRtcp


def _frame(packet_type: int, count: int, body: bytes) -> bytes:
    if count > 31:
        raise ValueError(f"RTCP count {count} > 31")
    if len(body) % 4:
        raise ValueError("RTCP body must be a whole number of 32-bit words")
    return _COMMON.pack(0x80 | count, packet_type, len(body) // 4) + body


def serialize_rtcp(packets: list[RtcpPacket] | tuple[RtcpPacket, ...]) -> bytes:
    """A compound packet: the serializations back to back (RFC 3550 section 6.1)."""
    return b"".join(p.serialize() for p in packets)


def parse_rtcp(data: bytes) -> list[RtcpPacket]:
    """Split and parse a (compound) RTCP datagram."""
    packets: list[RtcpPacket] = []
    pos = 0
    if len(data) < _COMMON.size:
        raise RtcpParseError(f"RTCP packet truncated: {len(data)} bytes < 4-byte header")
    while pos < len(data):
        if len(data) - pos < _COMMON.size:
            raise RtcpParseError(f"RTCP trailing {len(data) - pos} bytes are not a packet")
        first, packet_type, words = _COMMON.unpack_from(data, pos)
        if first >> 6 != 2:
            raise RtcpParseError(f"RTCP version {first >> 6} != 2")
        end = pos + 4 + 4 * words
        if end > len(data):
            raise RtcpParseError(
                f"RTCP packet type {packet_type} truncated: length says {4 * words} bytes, "
                f"{len(data) - pos - 4} present"
            )
        body = bytes(data[pos + 4 : end])
        if first & 0x20:  # padding: only legal on the last packet of a compound
            if end != len(data) or not body or body[-1] == 0 or body[-1] > len(body):
                raise RtcpParseError("RTCP padding invalid")
            body = body[: -body[-1]]
        packets.append(_parse_one(packet_type, first & 0x1F, body))
        pos = end
    return packets


def _parse_one(packet_type: int, count: int, body: bytes) -> RtcpPacket:
    if packet_type == PT_SR:
        need = 24 + 24 * count
        if len(body) < need:
            raise RtcpParseError(f"RTCP SR with {count} blocks needs {need} bytes, got {len(body)}")
        (ssrc,) = struct.unpack_from("!I", body)
        msw, lsw, rtp_ts, packets, octets = _SR_INFO.unpack_from(body, 4)
        blocks = tuple(ReportBlock.unpack(body, 24 + 24 * i) for i in range(count))
        return SenderReport(ssrc, (msw << 32) | lsw, rtp_ts, packets, octets, blocks)
    if packet_type == PT_RR:
        need = 4 + 24 * count
        if len(body) < need:
            raise RtcpParseError(f"RTCP RR with {count} blocks needs {need} bytes, got {len(body)}")
        (ssrc,) = struct.unpack_from("!I", body)
        blocks = tuple(ReportBlock.unpack(body, 4 + 24 * i) for i in range(count))
        return ReceiverReport(ssrc, blocks)
    if packet_type == PT_SDES:
        return _parse_sdes(count, body)
    if packet_type == PT_BYE:
        if len(body) < 4 * count:
            raise RtcpParseError(f"RTCP BYE with {count} sources needs {4 * count} bytes")
        ssrcs = struct.unpack_from(f"!{count}I", body)
        reason = ""
        rest = body[4 * count :]
        if rest:
            if 1 + rest[0] > len(rest):
                raise RtcpParseError("RTCP BYE reason overruns the packet")
            reason = rest[1 : 1 + rest[0]].decode("utf-8", "replace")
        return Bye(tuple(ssrcs), reason)
    return UnknownRtcp(packet_type, count, body)


def _parse_sdes(count: int, body: bytes) -> SourceDescription:
    chunks = []
    pos = 0
    for _ in range(count):
        if pos + 4 > len(body):
            raise RtcpParseError("RTCP SDES chunk truncated")
        (ssrc,) = struct.unpack_from("!I", body, pos)
        pos += 4
        items = []
        while True:
            if pos >= len(body):
                raise RtcpParseError("RTCP SDES chunk has no terminating null item")
            kind = body[pos]
            if kind == 0:
                pos = (pos + 4) & ~3  # skip the null octet and pad to the word boundary
                break
            if pos + 2 > len(body) or pos + 2 + body[pos + 1] > len(body):
                raise RtcpParseError(f"RTCP SDES item type {kind} overruns the packet")
            length = body[pos + 1]
            items.append((kind, body[pos + 2 : pos + 2 + length]))
            pos += 2 + length
        chunks.append(SdesChunk(ssrc, tuple(items)))
    return SourceDescription(tuple(chunks))


def ntp_timestamp(unix_seconds: float) -> int:
    """64-bit NTP timestamp for a wall-clock time (seconds since 1970)."""
    seconds = unix_seconds + NTP_UNIX_OFFSET
    return (int(seconds) << 32) | int((seconds % 1.0) * (1 << 32))


def ntp_middle32(ntp: int) -> int:
    """The middle 32 bits an RR echoes as LSR (RFC 3550 section 6.4.1)."""
    return (ntp >> 16) & 0xFFFFFFFF
