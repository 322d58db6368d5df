"""Streaming integer-ratio resampling (8 <-> 16 kHz and the like) for transcoding legs.

A Kaiser-windowed sinc low-pass, run with numpy convolution over each frame plus the
tail of the previous one, so a stream can be resampled frame by frame with the same
result as in one piece (no clicks at 20 ms boundaries). Stateful: one per stream direction.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Resampler", "lowpass"]


def lowpass(cutoff: float, taps: int, beta: float = 7.0) -> np.ndarray:
    """FIR low-pass, ``cutoff`` in cycles per sample (0..0.5), unity gain at DC."""
    n = np.arange(taps) - (taps - 1) / 2
    h = np.sinc(2 * cutoff * n) * np.kaiser(taps, beta)
    return h / h.sum()


class Resampler:
    """Changes ``src_rate`` to ``dst_rate`` when one divides the other; int16 in and out.

    The filter delays the signal by ``(taps - 1) / 2`` samples of the higher rate.
    """

    def __init__(self, src_rate: int, dst_rate: int, taps: int = 48) -> None:
        high, low = max(src_rate, dst_rate), min(src_rate, dst_rate)
        if high % low:
            raise ValueError(f"{src_rate} -> {dst_rate} Hz is not an integer ratio")
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self._factor = high // low
        self._up = dst_rate > src_rate
        # pass band to 0.92 of the lower rate's Nyquist: 3.68 kHz for 8 kHz telephony
        self._h = lowpass(0.46 / self._factor, taps) if self._factor > 1 else np.ones(1)
        if self._up:
            self._h = self._h * self._factor  # zero stuffing divides the level by the factor
        self._history = np.zeros(self._h.size - 1)
        self._phase = 0  # input samples consumed modulo the factor, for decimation

    def process(self, pcm: np.ndarray) -> np.ndarray:
        """Resample one frame (any length); output follows on from the previous call."""
        x = np.asarray(pcm, dtype=np.float64)
        if self._factor == 1:
            return np.asarray(pcm, dtype=np.int16).copy()
        if self._up:
            stuffed = np.zeros(x.size * self._factor)
            stuffed[:: self._factor] = x
            x = stuffed
        buf = np.concatenate([self._history, x])
        self._history = buf[buf.size - self._history.size :]
        y = np.convolve(buf, self._h, mode="valid")
        if not self._up:
            start = (-self._phase) % self._factor
            y = y[start :: self._factor]
            self._phase = (self._phase + x.size) % self._factor
        return np.clip(np.round(y), -32768, 32767).astype(np.int16)
