"""Conference mixing: every participant hears the sum of all the others (N-1), per 20 ms tick.

One tick is one 2-D numpy operation per bridge, never a Python loop per sample: the frames
of all N participants form an ``(N, samples)`` array, the total is summed once in int32,
and each participant's output is ``total - own contribution``, clipped to int16 at the
end (clipping each partial sum would distort; int32 cannot overflow below 65,536 voices).

Pure: no I/O, no clock; the engine feeds decoded frames in and sends the outputs.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

__all__ = ["MixResult", "Mixer", "ParticipantNotFoundError"]

_I16_MIN = -32768
_I16_MAX = 32767
_GAIN_SHIFT = 12  # gains are Q12 fixed point so the whole mix stays in integers
_MAX_GAIN = 8.0


class ParticipantNotFoundError(KeyError):
    """The key does not name a participant of this mixer."""


@dataclass(frozen=True, slots=True)
class MixResult:
    """One tick's output: ``frames[i]`` is what ``keys[i]`` hears (zeros for deaf ones)."""

    keys: tuple[Hashable, ...]
    frames: np.ndarray
    started_talking: tuple[Hashable, ...]
    stopped_talking: tuple[Hashable, ...]


class Mixer:
    """N-1 mixer with mute (not heard), deaf (hears nothing), gain and talker detection.

    Talker detection compares each frame's mean power with ``talk_threshold_dbov`` and holds
    the talking state for ``hangover_ticks`` after the voice drops, so pauses between words
    do not flap the indicator.
    """

    def __init__(
        self,
        frame_samples: int = 160,
        *,
        talk_threshold_dbov: float = -40.0,
        hangover_ticks: int = 15,
    ) -> None:
        self.frame_samples = frame_samples
        self.hangover_ticks = hangover_ticks
        # mean-square threshold on the int16 scale: 0 dBov is a full-scale square wave
        self._talk_energy = frame_samples * (32768.0**2) * 10 ** (talk_threshold_dbov / 10)
        self._keys: list[Hashable] = []
        self._index: dict[Hashable, int] = {}
        self._gain_q = np.zeros(0, dtype=np.int32)  # Q12 gain, 0 when muted
        self._gain = np.zeros(0, dtype=np.float64)
        self._muted = np.zeros(0, dtype=bool)
        self._deaf = np.zeros(0, dtype=bool)
        self._quiet_ticks = np.zeros(0, dtype=np.int32)
        self._talking = np.zeros(0, dtype=bool)
        self._unity = True

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    @property
    def keys(self) -> tuple[Hashable, ...]:
        """Participants in row order: ``mix`` expects and returns frames in this order."""
        return tuple(self._keys)

    @property
    def talking(self) -> frozenset[Hashable]:
        """Participants currently detected as talking (muted ones included)."""
        return frozenset(k for k, t in zip(self._keys, self._talking, strict=True) if t)

    def add(
        self, key: Hashable, *, gain: float = 1.0, muted: bool = False, deaf: bool = False
    ) -> None:
        """Add a participant as the last row; a key may join only once."""
        if key in self._index:
            raise ValueError(f"participant {key!r} already in the mixer")
        self._index[key] = len(self._keys)
        self._keys.append(key)
        self._gain = np.append(self._gain, 1.0)
        self._gain_q = np.append(self._gain_q, np.int32(0))
        self._muted = np.append(self._muted, False)
        self._deaf = np.append(self._deaf, deaf)
        self._quiet_ticks = np.append(self._quiet_ticks, np.int32(self.hangover_ticks))
        self._talking = np.append(self._talking, False)
        self._configure(self._index[key], gain=gain, muted=muted)

    def remove(self, key: Hashable) -> None:
        """Remove a participant; the rows after it move up by one."""
        row = self._row(key)
        del self._keys[row]
        self._index = {k: i for i, k in enumerate(self._keys)}
        for name in ("_gain", "_gain_q", "_muted", "_deaf", "_quiet_ticks", "_talking"):
            setattr(self, name, np.delete(getattr(self, name), row))
        self._unity = bool(np.all(self._gain_q[~self._muted] == 1 << _GAIN_SHIFT))

    def set_muted(self, key: Hashable, muted: bool) -> None:
        """A muted participant is not heard by the others (but still hears them)."""
        self._configure(self._row(key), muted=muted)

    def set_deaf(self, key: Hashable, deaf: bool) -> None:
        """A deaf participant receives silence (listen-only is the opposite: muted)."""
        self._deaf[self._row(key)] = deaf

    def set_gain(self, key: Hashable, gain: float) -> None:
        """Linear gain applied to what this participant says, 0..8."""
        self._configure(self._row(key), gain=gain)

    def is_muted(self, key: Hashable) -> bool:
        """Whether ``key`` is muted."""
        return bool(self._muted[self._row(key)])

    def is_deaf(self, key: Hashable) -> bool:
        """Whether ``key`` is deaf."""
        return bool(self._deaf[self._row(key)])

    def mix(self, frames: np.ndarray) -> MixResult:
        """Mix one tick: ``frames`` is int16 ``(len(self), frame_samples)`` in key order."""
        n = len(self._keys)
        if frames.shape != (n, self.frame_samples):
            raise ValueError(
                f"frames shape {frames.shape} != ({n}, {self.frame_samples}) for this mixer"
            )
        contrib = frames.astype(np.int32)
        started, stopped = self._detect_talkers(contrib)
        if self._unity:
            contrib[self._muted] = 0
        else:
            contrib *= self._gain_q[:, None]
            contrib >>= _GAIN_SHIFT
            np.clip(contrib, _I16_MIN, _I16_MAX, out=contrib)
        total = contrib.sum(axis=0, dtype=np.int32)
        out = np.subtract(total[None, :], contrib, out=contrib)
        np.clip(out, _I16_MIN, _I16_MAX, out=out)
        out[self._deaf] = 0
        return MixResult(tuple(self._keys), out.astype(np.int16), started, stopped)

    def _detect_talkers(
        self, contrib: np.ndarray
    ) -> tuple[tuple[Hashable, ...], tuple[Hashable, ...]]:
        energy = np.einsum("ij,ij->i", contrib, contrib, dtype=np.float64)
        loud = energy >= self._talk_energy
        self._quiet_ticks = np.where(loud, 0, self._quiet_ticks + 1)
        talking = self._quiet_ticks <= self.hangover_ticks
        changed = talking != self._talking
        self._talking = talking
        if not changed.any():
            return (), ()
        rows = np.flatnonzero(changed)
        started = tuple(self._keys[i] for i in rows if talking[i])
        stopped = tuple(self._keys[i] for i in rows if not talking[i])
        return started, stopped

    def _row(self, key: Hashable) -> int:
        try:
            return self._index[key]
        except KeyError:
            raise ParticipantNotFoundError(key) from None

    def _configure(self, row: int, *, gain: float | None = None, muted: bool | None = None) -> None:
        if gain is not None:
            if not 0.0 <= gain <= _MAX_GAIN:
                raise ValueError(f"gain {gain} outside 0..{_MAX_GAIN}")
            self._gain[row] = gain
        if muted is not None:
            self._muted[row] = muted
        self._gain_q[row] = 0 if self._muted[row] else round(self._gain[row] * (1 << _GAIN_SHIFT))
        self._unity = bool(np.all(self._gain_q[~self._muted] == 1 << _GAIN_SHIFT))
