"""Call-progress tones (dial, ringback, busy, congestion) and beeps as 20 ms int16 frames.

Plans: China (YD/T 1000 practice: 450 Hz) and ITU/Europe (ITU-T E.180 with the CEPT/ETSI
values: 425 Hz). A :class:`ToneGenerator` computes each frame from the absolute sample
index, so phase and cadence stay exact over any number of frames (no drift).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BEEP", "PLANS", "ToneGenerator", "ToneSpec", "tone"]


@dataclass(frozen=True, slots=True)
class ToneSpec:
    """Frequencies summed, a cadence of (on_ms, off_ms) pairs; no cadence = continuous.

    ``repeat=False`` plays the cadence once (a beep) and then the generator is done.
    """

    name: str
    freqs: tuple[float, ...]
    cadence: tuple[tuple[int, int], ...] = ()
    level_dbfs: float = -13.0  # per frequency, about -10 dBm0 on a G.711 line
    repeat: bool = True

    def __post_init__(self) -> None:
        if not self.freqs:
            raise ValueError("a tone needs at least one frequency")
        if any(on < 0 or off < 0 for on, off in self.cadence) or (
            self.cadence and sum(on + off for on, off in self.cadence) == 0
        ):
            raise ValueError(f"invalid cadence {self.cadence}")


PLANS: dict[str, dict[str, ToneSpec]] = {
    "cn": {
        "dial": ToneSpec("dial", (450.0,)),
        "ringback": ToneSpec("ringback", (450.0,), ((1000, 4000),)),
        "busy": ToneSpec("busy", (450.0,), ((350, 350),)),
        "congestion": ToneSpec("congestion", (450.0,), ((700, 700),)),
    },
    "itu": {
        "dial": ToneSpec("dial", (425.0,)),
        "ringback": ToneSpec("ringback", (425.0,), ((1000, 4000),)),
        "busy": ToneSpec("busy", (425.0,), ((500, 500),)),
        "congestion": ToneSpec("congestion", (425.0,), ((200, 200),)),
    },
}

BEEP = ToneSpec("beep", (1000.0,), ((200, 0),), level_dbfs=-10.0, repeat=False)


def tone(plan: str, name: str) -> ToneSpec:
    """Look up a plan's tone, e.g. ``tone("cn", "busy")``."""
    try:
        return PLANS[plan][name]
    except KeyError:
        raise KeyError(f"no tone {name!r} in plan {plan!r}; plans: {sorted(PLANS)}") from None


class ToneGenerator:
    """Frames of one tone in order; an iterator that ends only for non-repeating tones."""

    def __init__(self, spec: ToneSpec, sample_rate: int = 8000, frame_ms: int = 20) -> None:
        self.spec = spec
        self.sample_rate = sample_rate
        self.frame_samples = sample_rate * frame_ms // 1000
        self._n = 0  # absolute index of the next sample
        self._amp = 32767 * 10 ** (spec.level_dbfs / 20)
        self._omega = 2 * np.pi * np.asarray(spec.freqs)[:, None] / sample_rate
        # one cadence period as a boolean mask; continuous tones have none
        mask: list[np.ndarray] = []
        for on, off in spec.cadence:
            mask.append(np.ones(on * sample_rate // 1000, bool))
            mask.append(np.zeros(off * sample_rate // 1000, bool))
        self._mask = np.concatenate(mask) if mask else None

    @property
    def done(self) -> bool:
        """True once a non-repeating tone has played its whole cadence."""
        return (not self.spec.repeat and self._mask is not None
                and self._n >= self._mask.size)

    def next_frame(self) -> np.ndarray:
        """The next ``frame_samples`` int16 samples (silence after a one-shot ends)."""
        idx = np.arange(self._n, self._n + self.frame_samples)
        self._n += self.frame_samples
        wave = self._amp * np.sin(self._omega * idx).sum(axis=0)
        if self._mask is not None:
            if self.spec.repeat:
                on = self._mask[idx % self._mask.size]
            else:
                on = np.zeros(idx.size, bool)
                inside = idx < self._mask.size
                on[inside] = self._mask[idx[inside]]
            wave = np.where(on, wave, 0.0)
        return np.clip(np.round(wave), -32768, 32767).astype(np.int16)

    def __iter__(self) -> ToneGenerator:
        return self

    def __next__(self) -> np.ndarray:
        if self.done:
            raise StopIteration
        return self.next_frame()
