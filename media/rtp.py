"""RTP packets (RFC 3550 section 5.1) and 16/32-bit wraparound arithmetic.

Pure: bytes in, objects out. Every malformed input raises :class:`RtpParseError`
with the exact reason, so the engine can count and drop it (issue 4, security).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "RTP_VERSION",
    "RtpPacket",
    "RtpParseError",
    "is_rtcp",
    "seq_diff",
    "seq_newer",
    "ts_diff",
]

RTP_VERSION = 2
_HEADER = struct.Struct("!BBHII")
_EXT_HEADER = struct.Struct("!HH")


class RtpParseError(ValueError):
    """A datagram is not a valid RTP packet; the message says why."""


@dataclass(slots=True, repr=False)
class RtpPacket:
    """One RTP packet; ``padding`` is the total count of padding octets (0 = none)."""

    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension_profile: int | None = None
    extension: bytes = b""
    padding: int = 0

    def __repr__(self) -> str:
        return (
            f"RtpPacket(pt={self.payload_type}, seq={self.sequence_number}, "
            f"ts={self.timestamp}, ssrc={self.ssrc:#010x}, "
            f"{'M, ' if self.marker else ''}{len(self.payload)}B)"
        )

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse one datagram; raise :class:`RtpParseError` naming the defect."""
        if len(data) < _HEADER.size:
            raise RtpParseError(f"RTP packet truncated: {len(data)} bytes < 12-byte header")
        first, second, seq, ts, ssrc = _HEADER.unpack_from(data)
        version = first >> 6
        if version != RTP_VERSION:
            raise RtpParseError(f"RTP version {version} != 2")
        has_padding = bool(first & 0x20)
        has_extension = bool(first & 0x10)
        cc = first & 0x0F
        pos = _HEADER.size
        end = len(data)
        if end < pos + 4 * cc:
            raise RtpParseError(f"RTP packet truncated: CSRC list of {cc} needs {4 * cc} bytes")
        csrc = struct.unpack_from(f"!{cc}I", data, pos) if cc else ()
        pos += 4 * cc
        profile: int | None = None
        extension = b""
        if has_extension:
            if end < pos + _EXT_HEADER.size:
                raise RtpParseError("RTP packet truncated: extension header")
            profile, words = _EXT_HEADER.unpack_from(data, pos)
            pos += _EXT_HEADER.size
            if end < pos + 4 * words:
                raise RtpParseError(
                    f"RTP packet truncated: extension of {words} words needs {4 * words} bytes"
                )
            extension = bytes(data[pos : pos + 4 * words])
            pos += 4 * words
        padding = 0
        if has_padding:
            padding = data[-1] if end > pos else 0
            if padding == 0:
                raise RtpParseError("RTP padding flag set but padding count is 0")
            if padding > end - pos:
                raise RtpParseError(
                    f"RTP padding count {padding} exceeds the {end - pos} bytes after the header"
                )
            end -= padding
        return cls(
            payload_type=second & 0x7F,
            sequence_number=seq,
            timestamp=ts,
            ssrc=ssrc,
            payload=bytes(data[pos:end]),
            marker=bool(second & 0x80),
            csrc=tuple(csrc),
            extension_profile=profile,
            extension=extension,
            padding=padding,
        )

    def serialize(self) -> bytes:
        """Encode to wire format; raise ``ValueError`` for fields that cannot be encoded."""
        if not 0 <= self.payload_type <= 127:
            raise ValueError(f"payload type {self.payload_type} outside 0..127")
        if len(self.csrc) > 15:
            raise ValueError(f"{len(self.csrc)} CSRCs > 15")
        if not 0 <= self.padding <= 255:
            raise ValueError(f"padding {self.padding} outside 0..255")
        if len(self.extension) % 4:
            raise ValueError("extension length must be a multiple of 4 bytes")
        has_ext = self.extension_profile is not None
        first = (RTP_VERSION << 6) | (0x20 if self.padding else 0) | (0x10 if has_ext else 0)
        first |= len(self.csrc)
        second = (0x80 if self.marker else 0) | self.payload_type
        parts = [
            _HEADER.pack(
                first,
                second,
                self.sequence_number & 0xFFFF,
                self.timestamp & 0xFFFFFFFF,
                self.ssrc & 0xFFFFFFFF,
            )
        ]
        if self.csrc:
            parts.append(struct.pack(f"!{len(self.csrc)}I", *self.csrc))
        if has_ext:
            assert self.extension_profile is not None
            parts.append(_EXT_HEADER.pack(self.extension_profile, len(self.extension) // 4))
            parts.append(self.extension)
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes((self.padding,)))
        return b"".join(parts)


def is_rtcp(data: bytes) -> bool:
    """RFC 5761 section 4: RTCP packet types 192..223 never collide with RTP M+PT bytes."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def seq_diff(a: int, b: int) -> int:
    """Signed distance ``a - b`` in 16-bit sequence space, in -32768..32767."""
    return ((a - b + 0x8000) & 0xFFFF) - 0x8000


def seq_newer(a: int, b: int) -> bool:
    """True when sequence number ``a`` comes after ``b``, allowing for wraparound."""
    return seq_diff(a, b) > 0


def ts_diff(a: int, b: int) -> int:
    """Signed distance ``a - b`` in 32-bit RTP timestamp space."""
    return ((a - b + 0x80000000) & 0xFFFFFFFF) - 0x80000000
