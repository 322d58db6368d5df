"""Packet loss concealment and comfort noise (RFC 3389) on decoded int16 frames.

A short gap repeats the last good frame with a falling gain (listeners hardly notice
20-60 ms); a longer gap fades to comfort noise at the level the sender's last CN packet
announced, or to silence if it never sent one. Randomness comes from a seeded generator,
so tests are deterministic.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CN_PAYLOAD_TYPE", "Concealer", "cn_level", "cn_payload", "comfort_noise"]

CN_PAYLOAD_TYPE = 13  # RFC 3551 static type for RFC 3389 comfort noise
_FADE = (0.9, 0.6, 0.3)  # gains of the 1st, 2nd, 3rd repeated frame


def cn_level(payload: bytes) -> int:
    """Noise level in -dBov from an RFC 3389 payload (spectral coefficients are ignored)."""
    if not payload:
        raise ValueError("empty comfort-noise payload")
    return payload[0] & 0x7F


def cn_payload(level_dbov: int) -> bytes:
    """An RFC 3389 payload with only the level byte (white noise, no spectral shape)."""
    if not 0 <= level_dbov <= 127:
        raise ValueError(f"CN level {level_dbov} outside 0..127 (-dBov)")
    return bytes((level_dbov,))


def comfort_noise(level_dbov: int, samples: int, rng: np.random.Generator) -> np.ndarray:
    """White noise whose RMS is ``-level_dbov`` dB below full scale (RFC 3389 section 3.1)."""
    rms = 32767 * 10 ** (-level_dbov / 20)
    noise = rng.normal(0.0, rms, samples)
    return np.clip(np.round(noise), -32768, 32767).astype(np.int16)


class Concealer:
    """Per-stream concealment: ``good(pcm)`` for each decoded frame, ``lost(n)`` for a gap."""

    def __init__(self, frame_samples: int, seed: int = 0) -> None:
        self.frame_samples = frame_samples
        self._last = np.zeros(frame_samples, np.int16)
        self._noise_level: int | None = None
        self._rng = np.random.default_rng(seed)

    def good(self, pcm: np.ndarray) -> np.ndarray:
        """Remember a decoded frame and pass it through."""
        self._last = pcm
        return pcm

    def comfort_noise(self, payload: bytes) -> np.ndarray:
        """A CN packet arrived: adopt its level and return one frame of noise."""
        self._noise_level = cn_level(payload)
        return comfort_noise(self._noise_level, self.frame_samples, self._rng)

    def lost(self, consecutive: int) -> np.ndarray:
        """The frame to play for the ``consecutive``-th missing frame of a gap (1-based)."""
        if consecutive <= len(_FADE):
            faded = self._last.astype(np.float32) * _FADE[consecutive - 1]
            return faded.astype(np.int16)
        if self._noise_level is None:
            return np.zeros(self.frame_samples, np.int16)
        return comfort_noise(self._noise_level, self.frame_samples, self._rng)
