"""Conference mixing: every participant hears the sum of all the others (N-1), per 20 ms tick.

A :class:`Mixer` holds one bridge's participants and their settings. :func:`mix_all`
mixes *every* bridge of a tick in one pass: the frames of all participants of all bridges
form one ``(participants, samples)`` array, and each step (gain, room totals, N-1
subtraction, clipping, talker energy) is one numpy operation over it, so the cost per tick
is a dozen array operations however many rooms there are, not a dozen per room (small
numpy calls cost microseconds each; 100 rooms of 5 would spend the tick on overhead).

Arithmetic is float32, which is exact for integers below 2**24: sums of up to 512 int16
voices are exact, so the N-1 output is exactly ``total - own``. Only the final result is
clipped to int16 (clipping partial sums would distort).

Pure: no I/O, no clock; the engine feeds decoded frames in and sends the outputs.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["MixBatch", "MixResult", "Mixer", "ParticipantNotFoundError", "mix_all"]

_I16_MIN = -32768
_I16_MAX = 32767
_MAX_GAIN = 8.0


class ParticipantNotFoundError(KeyError):
    """The key does not name a participant of this mixer."""


@dataclass(frozen=True, slots=True)
class MixResult:
    """One bridge's tick: ``frames[i]`` is what ``keys[i]`` hears (zeros for deaf ones)."""

    keys: tuple[Hashable, ...]
    frames: np.ndarray
    started_talking: tuple[Hashable, ...]
    stopped_talking: tuple[Hashable, ...]


@dataclass(frozen=True, slots=True)
class MixBatch:
    """All bridges of a tick: ``frames`` stacks every result's frames in mixer order."""

    frames: np.ndarray
    results: tuple[MixResult, ...]


class Mixer:
    """One bridge's participants: mute (not heard), deaf (hears nothing), gain, talkers.

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
        # frame energy (sum of squares) threshold; 0 dBov is a full-scale square wave
        self.talk_energy = frame_samples * (32768.0**2) * 10 ** (talk_threshold_dbov / 10)
        self._keys: list[Hashable] = []
        self.key_tuple: tuple[Hashable, ...] = ()
        self._index: dict[Hashable, int] = {}
        # Plain lists: a relayed call's bridge adds and removes two participants and never
        # mixes, so the arrays mixing needs are built only when it first asks for them.
        self._gain: list[float] = []
        self._muted: list[bool] = []
        self._deaf: list[bool] = []
        self._derived: tuple[np.ndarray, np.ndarray] | None = None  # weights, hears
        self._quiet: np.ndarray | None = None  # talker state per row, once mixed
        self._talking: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    @property
    def keys(self) -> tuple[Hashable, ...]:
        """Participants in row order: ``mix`` expects and returns frames in this order."""
        return self.key_tuple

    @property
    def talking(self) -> frozenset[Hashable]:
        """Participants currently detected as talking (muted ones included)."""
        return frozenset(k for k, t in zip(self._keys, self.talking_rows, strict=True) if t)

    @property
    def weights(self) -> np.ndarray:
        """Per row: the gain, 0 when muted (float32)."""
        return self._derive()[0]

    @property
    def hears(self) -> np.ndarray:
        """Per row: 1, 0 when deaf (float32)."""
        return self._derive()[1]

    @property
    def quiet_ticks(self) -> np.ndarray:
        """Per row: ticks since the voice was last above the threshold."""
        if self._quiet is None:
            self._quiet = np.full(len(self._keys), self.hangover_ticks + 1, dtype=np.int32)
        return self._quiet

    @quiet_ticks.setter
    def quiet_ticks(self, value: np.ndarray) -> None:
        self._quiet = value

    @property
    def talking_rows(self) -> np.ndarray:
        """Per row: detected as talking."""
        if self._talking is None:
            self._talking = np.zeros(len(self._keys), dtype=bool)
        return self._talking

    @talking_rows.setter
    def talking_rows(self, value: np.ndarray) -> None:
        self._talking = value

    def add(
        self, key: Hashable, *, gain: float = 1.0, muted: bool = False, deaf: bool = False
    ) -> None:
        """Add a participant as the last row; a key may join only once."""
        if key in self._index:
            raise ValueError(f"participant {key!r} already in the mixer")
        self._check_gain(gain)
        self._index[key] = len(self._keys)
        self._keys.append(key)
        self.key_tuple = tuple(self._keys)
        self._gain.append(float(np.float32(gain)))
        self._muted.append(bool(muted))
        self._deaf.append(bool(deaf))
        self._derived = None
        if self._quiet is not None:
            self._quiet = np.append(self._quiet, np.int32(self.hangover_ticks + 1))
        if self._talking is not None:
            self._talking = np.append(self._talking, False)

    def remove(self, key: Hashable) -> None:
        """Remove a participant; the rows after it move up by one."""
        row = self._row(key)
        del self._keys[row]
        self.key_tuple = tuple(self._keys)
        self._index = {k: i for i, k in enumerate(self._keys)}
        del self._gain[row], self._muted[row], self._deaf[row]
        self._derived = None
        if self._quiet is not None:
            self._quiet = np.delete(self._quiet, row)
        if self._talking is not None:
            self._talking = np.delete(self._talking, row)

    def set_muted(self, key: Hashable, muted: bool) -> None:
        """A muted participant is not heard by the others (but still hears them)."""
        self._muted[self._row(key)] = bool(muted)
        self._derived = None

    def set_deaf(self, key: Hashable, deaf: bool) -> None:
        """A deaf participant receives silence (listen-only is the opposite: muted)."""
        self._deaf[self._row(key)] = bool(deaf)
        self._derived = None

    def set_gain(self, key: Hashable, gain: float) -> None:
        """Linear gain applied to what this participant says, 0..8."""
        self._check_gain(gain)
        self._gain[self._row(key)] = float(np.float32(gain))
        self._derived = None

    def is_muted(self, key: Hashable) -> bool:
        """Whether ``key`` is muted."""
        return self._muted[self._row(key)]

    def is_deaf(self, key: Hashable) -> bool:
        """Whether ``key`` is deaf."""
        return self._deaf[self._row(key)]

    def mix(self, frames: np.ndarray) -> MixResult:
        """Mix this bridge alone: ``frames`` is int16 ``(len(self), frame_samples)``."""
        return mix_all([self], frames).results[0]

    def _row(self, key: Hashable) -> int:
        try:
            return self._index[key]
        except KeyError:
            raise ParticipantNotFoundError(key) from None

    @staticmethod
    def _check_gain(gain: float) -> None:
        if not 0.0 <= gain <= _MAX_GAIN:
            raise ValueError(f"gain {gain} outside 0..{_MAX_GAIN}")

    def _derive(self) -> tuple[np.ndarray, np.ndarray]:
        derived = self._derived
        if derived is None:
            weights = np.array([0.0 if m else g for g, m in zip(self._gain, self._muted,
                                                                  strict=True)], np.float32)
            hears = np.array([0.0 if d else 1.0 for d in self._deaf], np.float32)
            derived = self._derived = (weights, hears)
        return derived


def _room_totals(contrib: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Each row replaced by the total of its room; rooms of equal size summed together."""
    totals = np.empty_like(contrib)
    samples = contrib.shape[1]
    pos = 0
    for size, run in itertools.groupby(sizes):
        count = len(list(run))
        end = pos + size * count
        if size:
            block = contrib[pos:end].reshape(count, size, samples)
            summed = np.matmul(np.ones(size, np.float32), block)  # (count, samples)
            totals[pos:end].reshape(count, size, samples)[:] = summed[:, None, :]
        pos = end
    return totals


def mix_all(mixers: Sequence[Mixer], frames: np.ndarray) -> MixBatch:
    """Mix every bridge of a tick; ``frames`` stacks each mixer's rows in mixer order."""
    sizes = [len(m) for m in mixers]
    total_rows = sum(sizes)
    samples = mixers[0].frame_samples if mixers else 0
    if frames.shape != (total_rows, samples) or any(m.frame_samples != samples for m in mixers):
        raise ValueError(
            f"frames shape {frames.shape} != ({total_rows}, {samples}) for these mixers"
        )
    if total_rows == 0:
        empty = np.zeros((0, samples), np.int16)
        return MixBatch(empty, tuple(MixResult((), empty, (), ()) for _ in mixers))
    x = frames.astype(np.float32)
    energy = np.einsum("ij,ij->i", x, x)
    weights = np.concatenate([m.weights for m in mixers])
    hears = np.concatenate([m.hears for m in mixers])
    contrib = np.multiply(x, weights[:, None], out=x)
    out = _room_totals(contrib, sizes)
    np.subtract(out, contrib, out=out)
    np.clip(out, _I16_MIN, _I16_MAX, out=out)
    np.multiply(out, hears[:, None], out=out)
    out16 = out.astype(np.int16)
    changes = _detect_talkers(mixers, sizes, energy)
    results = []
    pos = 0
    nothing: tuple[tuple[Hashable, ...], tuple[Hashable, ...]] = ((), ())
    for m, size in zip(mixers, sizes, strict=True):
        started, stopped = changes.get(id(m), nothing) if changes else nothing
        results.append(MixResult(m.key_tuple, out16[pos : pos + size], started, stopped))
        pos += size
    return MixBatch(out16, tuple(results))


def _detect_talkers(
    mixers: Sequence[Mixer], sizes: list[int], energy: np.ndarray
) -> dict[int, tuple[tuple[Hashable, ...], tuple[Hashable, ...]]]:
    """Update every mixer's talker state; returns (started, stopped) of those that changed."""
    first = mixers[0]
    if all(
        m.talk_energy == first.talk_energy and m.hangover_ticks == first.hangover_ticks
        for m in mixers
    ):
        threshold: float | np.ndarray = first.talk_energy
        hangover: int | np.ndarray = first.hangover_ticks
    else:
        threshold = np.repeat([m.talk_energy for m in mixers], sizes)
        hangover = np.repeat([m.hangover_ticks for m in mixers], sizes)
    quiet = np.concatenate([m.quiet_ticks for m in mixers])
    before = np.concatenate([m.talking_rows for m in mixers])
    quiet += 1
    quiet[energy >= threshold] = 0
    talking = quiet <= hangover
    starts = list(itertools.accumulate(sizes, initial=0))
    for m, a, b in zip(mixers, starts, starts[1:], strict=False):
        m.quiet_ticks = quiet[a:b]
        m.talking_rows = talking[a:b]
    changed_rows = np.flatnonzero(talking != before)
    changes: dict[int, tuple[list[Hashable], list[Hashable]]] = {}
    for row in changed_rows.tolist():
        k = bisect.bisect_right(starts, row) - 1
        m = mixers[k]
        started, stopped = changes.setdefault(id(m), ([], []))
        (started if talking[row] else stopped).append(m._keys[row - starts[k]])
    return {key: (tuple(s), tuple(t)) for key, (s, t) in changes.items()}
