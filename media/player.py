"""Prompt playback: audio files decoded once, resampled to the codec rate, played per tick.

Prompts are recorded at whatever rate the studio used (44.1 kHz FLAC, 16 kHz WAV...).
:class:`PromptCache` reads each file once with soundfile, downmixes to mono, resamples to
the rate a stream needs and keeps the int16 samples, keyed by path, modification time and
rate, so a thousand callers hearing the same greeting cost one decode. Loading blocks on
file I/O, so the engine calls it from an executor.

:class:`Player` is pure: the engine's clock asks it for the next 20 ms frame each tick, so
prompts are paced by the same monotonic clock as everything else, and :meth:`Player.cancel`
stops it at a frame boundary (barge-in on a digit).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

__all__ = ["Player", "PromptCache", "PromptError", "resample", "to_int16"]

_EDGE_PAD = 256  # zeros around a signal so FFT resampling does not wrap its ends together


class PromptError(OSError):
    """A prompt file is missing or not a readable audio file."""


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in -1..1 to int16, saturating instead of wrapping."""
    return np.clip(np.rint(samples * 32767.0), -32768, 32767).astype(np.int16)


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited resampling of a whole mono signal (float in, float out) via the FFT.

    Truncating the spectrum is an ideal low-pass, so downsampling 44.1 kHz music to 8 kHz
    does not alias; it costs one FFT per prompt, paid once thanks to the cache.
    """
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError(f"sample rates must be positive, not {src_rate} -> {dst_rate}")
    x = np.asarray(samples, dtype=np.float64)
    if src_rate == dst_rate or x.size == 0:
        return x.copy()
    out_len = round(x.size * dst_rate / src_rate)
    padded = np.concatenate([np.zeros(_EDGE_PAD), x, np.zeros(_EDGE_PAD)])
    pad_out = round(_EDGE_PAD * dst_rate / src_rate)
    n_in = padded.size
    n_out = out_len + 2 * pad_out
    spectrum = np.fft.rfft(padded)
    keep = min(spectrum.size, n_out // 2 + 1)
    resized = np.zeros(n_out // 2 + 1, dtype=complex)
    resized[:keep] = spectrum[:keep]
    y = np.fft.irfft(resized, n_out) * (n_out / n_in)
    return y[pad_out : pad_out + out_len]


class PromptCache:
    """Decoded prompts at given rates, least recently used dropped beyond ``max_entries``."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, int, int], np.ndarray] = OrderedDict()
        self.decodes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def load(self, path: str | Path, sample_rate: int) -> np.ndarray:
        """int16 mono samples of ``path`` at ``sample_rate`` (read-only array, shared)."""
        p = Path(path)
        try:
            key = (str(p.resolve()), p.stat().st_mtime_ns, sample_rate)
        except OSError as exc:
            raise PromptError(exc.errno, f"prompt not found: {p}") from exc
        cached = self._entries.get(key)
        if cached is not None:
            self._entries.move_to_end(key)
            return cached
        try:
            data, rate = sf.read(str(p), dtype="float64", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise PromptError(f"cannot decode prompt {p}: {exc}") from exc
        pcm = to_int16(resample(data.mean(axis=1), int(rate), sample_rate))
        pcm.flags.writeable = False
        self.decodes += 1
        self._entries[key] = pcm
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return pcm


class Player:
    """Plays a playlist of int16 clips as frames of ``frame_samples``; optionally loops.

    The last frame of the playlist is zero-padded, so every frame has the same length.
    """

    def __init__(
        self, clips: Sequence[np.ndarray], frame_samples: int, *, loop: bool = False
    ) -> None:
        if frame_samples <= 0:
            raise ValueError(f"frame_samples must be positive, not {frame_samples}")
        self.frame_samples = frame_samples
        self.loop = loop
        parts = [np.asarray(c, dtype=np.int16).reshape(-1) for c in clips]
        self._pcm = np.concatenate(parts) if parts else np.zeros(0, np.int16)
        if loop and self._pcm.size == 0:
            raise ValueError("cannot loop an empty playlist")
        self._pos = 0
        self.frames_played = 0
        self.cancelled = False
        self.cancel_reason: str | None = None

    @property
    def frames_total(self) -> int:
        """Frames in one pass of the playlist (the last one padded)."""
        return -(-self._pcm.size // self.frame_samples)

    @property
    def done(self) -> bool:
        """True after the last frame was taken or after :meth:`cancel`."""
        return self.cancelled or (not self.loop and self._pos >= self._pcm.size)

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop at the next frame boundary (barge-in, hangup, new prompt)."""
        if not self.done:
            self.cancelled = True
            self.cancel_reason = reason

    def next_frame(self) -> np.ndarray | None:
        """The next frame, or None when the playlist is finished or cancelled."""
        if self.done:
            return None
        n = self.frame_samples
        pcm = self._pcm
        end = self._pos + n
        if end <= pcm.size:
            frame = pcm[self._pos : end]
            self._pos = end if not (self.loop and end == pcm.size) else 0
        elif self.loop:
            idx = np.arange(self._pos, end) % pcm.size
            frame = pcm[idx]
            self._pos = end % pcm.size
        else:
            frame = np.zeros(n, np.int16)
            frame[: pcm.size - self._pos] = pcm[self._pos :]
            self._pos = pcm.size
        self.frames_played += 1
        return frame
