"""L16: uncompressed 16-bit linear PCM in network byte order (RFC 3551 section 4.5.11)."""

from __future__ import annotations

import numpy as np

__all__ = ["L16"]

_BIG_ENDIAN_I16 = np.dtype(">i2")


class L16:
    """Mono L16 at any rate; RFC 3551's static types 10/11 are 44.1 kHz, so ours is dynamic."""

    name = "L16"
    static_payload_type: int | None = None

    def __init__(self, sample_rate: int = 8000) -> None:
        self.sample_rate = sample_rate
        self.clock_rate = sample_rate

    def encode(self, pcm: np.ndarray) -> bytes:
        """int16 samples -> big-endian bytes."""
        return np.asarray(pcm, dtype=np.int16).astype(_BIG_ENDIAN_I16).tobytes()

    def decode(self, payload: bytes) -> np.ndarray:
        """Big-endian bytes -> native int16 samples; a trailing odd byte is a framing error."""
        if len(payload) % 2:
            raise ValueError(f"L16 payload of {len(payload)} bytes is not whole samples")
        return np.frombuffer(payload, dtype=_BIG_ENDIAN_I16).astype(np.int16)

    def __repr__(self) -> str:
        return f"L16(sample_rate={self.sample_rate})"
