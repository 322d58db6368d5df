"""Transcoding between legs with different codecs: decode, resample if needed, encode."""

from __future__ import annotations

from media.codecs.base import Codec
from media.codecs.resample import Resampler

__all__ = ["Transcoder"]


class Transcoder:
    """One direction of a bridge between two codecs (e.g. G.722 phone to PCMA trunk).

    Holds the resampler state; the codecs passed in must be per-stream instances for
    stateful codecs (see :func:`media.codecs.get_codec`).
    """

    def __init__(self, source: Codec, target: Codec) -> None:
        self.source = source
        self.target = target
        self._resampler = (Resampler(source.sample_rate, target.sample_rate)
                           if source.sample_rate != target.sample_rate else None)

    def __call__(self, payload: bytes) -> bytes:
        pcm = self.source.decode(payload)
        if self._resampler is not None:
            pcm = self._resampler.process(pcm)
        return self.target.encode(pcm)
