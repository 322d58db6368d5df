"""The codec interface every implementation satisfies."""

from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = ["Codec", "UnknownCodecError"]


class Codec(Protocol):
    """What the engine needs from a codec; samples are int16 mono at ``sample_rate``."""

    name: str
    clock_rate: int  # RTP timestamp rate (8000 for G.722 per RFC 3551, a historic quirk)
    sample_rate: int
    static_payload_type: int | None

    def encode(self, pcm: np.ndarray) -> bytes: ...

    def decode(self, payload: bytes) -> np.ndarray: ...


class UnknownCodecError(LookupError):
    """No codec of that name is implemented."""
