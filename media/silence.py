"""Silence detection for recordings: "the caller has stopped talking" ends a voicemail.

Pure and per frame: `SilenceWatch.feed(frame)` returns True once, when the audio has stayed
below the level threshold for `timeout` seconds in a row. The level is the frame's RMS in
dBFS; -40 dBFS sits well above the line noise of a quiet phone line (about -60 to -50) and
below soft speech (about -30), which is the usual voice-activity threshold for telephony.
Time is counted in frames (samples / rate), never read from a clock.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DEFAULT_THRESHOLD_DBFS", "SilenceWatch", "level_dbfs"]

DEFAULT_THRESHOLD_DBFS = -40.0
_FULL_SCALE = 32768.0


def level_dbfs(frame: np.ndarray) -> float:
    """RMS level of int16 samples in dB relative to full scale (-inf for digital silence)."""
    if frame.size == 0:
        return -math.inf
    mean_square = float(np.mean(np.square(frame, dtype=np.float64)))
    if mean_square <= 0.0:
        return -math.inf
    return 10.0 * math.log10(mean_square) - 20.0 * math.log10(_FULL_SCALE)


class SilenceWatch:
    """Reports, once, `timeout` seconds of continuous silence; speech restarts the count."""

    def __init__(self, timeout: float, sample_rate: int,
                 threshold_dbfs: float = DEFAULT_THRESHOLD_DBFS) -> None:
        if timeout <= 0:
            raise ValueError(f"silence timeout must be positive, got {timeout}")
        self.timeout = timeout
        self.sample_rate = sample_rate
        self.threshold_dbfs = threshold_dbfs
        self._quiet_samples = 0
        self.fired = False

    def feed(self, frame: np.ndarray) -> bool:
        """Account one frame; True exactly when the silence first reaches the timeout."""
        if self.fired:
            return False
        if level_dbfs(frame) < self.threshold_dbfs:
            self._quiet_samples += frame.size
        else:
            self._quiet_samples = 0
        if self._quiet_samples >= self.timeout * self.sample_rate:
            self.fired = True
        return self.fired
