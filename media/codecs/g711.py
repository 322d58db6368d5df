"""G.711 PCMU (mu-law) and PCMA (A-law), bit-exact with ITU-T G.711 via lookup tables.

The tables are built once, vectorised, from the segment/mantissa rules of G.711 (the same
rules as the ITU-T G.191 reference code): encoding is one 65536-entry gather indexed by the
16-bit sample pattern, decoding one 256-entry gather. Both codecs are stateless, so a single
instance may serve every stream.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "PCMA",
    "PCMU",
    "alaw_decode_table",
    "alaw_encode_table",
    "ulaw_decode_table",
    "ulaw_encode_table",
]


def _all_samples() -> np.ndarray:
    """Every int16 value, ordered by its unsigned 16-bit pattern (the table index)."""
    return np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32)


def _segment(magnitude: np.ndarray, first_limit: int) -> np.ndarray:
    """Segment number 0..7 where segment s covers magnitudes < first_limit << s."""
    seg = np.zeros(magnitude.shape, dtype=np.int32)
    for s in range(7):
        seg += magnitude >= (first_limit << s)
    return seg


def ulaw_encode_table() -> np.ndarray:
    """uint8[65536]: mu-law code for each 16-bit sample (14-bit G.711 input, bias 33)."""
    x = _all_samples()
    mag = np.where(x < 0, ~x, x) >> 2  # one's complement keeps the law symmetric
    mag = np.minimum(mag + 33, 0x1FFF)
    seg = _segment(mag, 64)
    mantissa = (mag >> (seg + 1)) & 0x0F
    code = ((7 - seg) << 4) | (15 - mantissa)
    code = np.where(x >= 0, code | 0x80, code)
    return code.astype(np.uint8)


def ulaw_decode_table() -> np.ndarray:
    """int16[256]: the G.711 mu-law reconstruction level of each code, scaled to 16 bits."""
    code = np.arange(256, dtype=np.int32)
    inv = ~code & 0xFF
    exponent = (inv >> 4) & 0x07
    mantissa = inv & 0x0F
    step = 4 << (exponent + 1)
    magnitude = (0x80 << exponent) + step * mantissa + step // 2 - 4 * 33
    return np.where(code & 0x80, magnitude, -magnitude).astype(np.int16)


def alaw_encode_table() -> np.ndarray:
    """uint8[65536]: A-law code for each 16-bit sample (12-bit magnitude, even bits ^ 0x55)."""
    x = _all_samples()
    mag = np.where(x < 0, ~x, x) >> 4
    seg = _segment(mag, 16)
    mantissa = np.where(seg == 0, mag, mag >> np.maximum(seg - 1, 0)) & 0x0F
    code = (seg << 4) | mantissa
    code = np.where(x >= 0, code | 0x80, code)
    return (code ^ 0x55).astype(np.uint8)


def alaw_decode_table() -> np.ndarray:
    """int16[256]: the G.711 A-law reconstruction level of each code, scaled to 16 bits."""
    code = np.arange(256, dtype=np.int32)
    raw = (code ^ 0x55) & 0x7F
    exponent = raw >> 4
    mantissa = raw & 0x0F
    level = np.where(exponent > 0, mantissa + 16, mantissa)
    level = (level << 4) + 8
    level = np.where(exponent > 1, level << np.maximum(exponent - 1, 0), level)
    return np.where(code & 0x80, level, -level).astype(np.int16)


class _G711:
    """Shared table-driven encode/decode; subclasses supply the tables."""

    name: str
    static_payload_type: int
    clock_rate = 8000
    sample_rate = 8000
    _enc: np.ndarray
    _dec: np.ndarray

    def encode(self, pcm: np.ndarray) -> bytes:
        """int16 mono 8 kHz samples -> one code byte per sample."""
        index = np.ascontiguousarray(pcm, dtype=np.int16).view(np.uint16)
        return self._enc[index].tobytes()

    def decode(self, payload: bytes) -> np.ndarray:
        """Code bytes -> int16 mono 8 kHz samples."""
        return self._dec[np.frombuffer(payload, dtype=np.uint8)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class PCMU(_G711):
    """G.711 mu-law, static payload type 0 (RFC 3551)."""

    name = "PCMU"
    static_payload_type = 0
    _enc = ulaw_encode_table()
    _dec = ulaw_decode_table()


class PCMA(_G711):
    """G.711 A-law, static payload type 8 (RFC 3551)."""

    name = "PCMA"
    static_payload_type = 8
    _enc = alaw_encode_table()
    _dec = alaw_decode_table()
