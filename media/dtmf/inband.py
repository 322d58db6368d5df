"""In-band DTMF: a Goertzel detector for 8 kHz audio in 20 ms frames, and a tone generator.

Each frame's power at the eight DTMF frequencies and the four column second harmonics is
the Goertzel (single-bin DFT) power, each at the nominal frequency and +-1.5 %, computed
for all bins as one numpy matrix product: the same numbers as running the recurrence per
bin (``goertzel_power``), without a Python loop over samples. A frame holds a digit only if every check of ITU-T Q.24 practice passes:
level, twist, each tone clearly the strongest of its group, no strong second harmonic
(voiced speech has them, pure tones do not) and the two tones carrying most of the
frame's energy (speech and noise spread theirs). A digit counts once it persists for
``min_frames`` frames (40 ms), and is reported when it ends.
"""

from __future__ import annotations

import numpy as np

from media.dtmf.events import DtmfDigit

__all__ = ["COL_FREQS", "ROW_FREQS", "InbandDtmfDetector", "dtmf_tone", "goertzel_power"]

ROW_FREQS = (697.0, 770.0, 852.0, 941.0)
COL_FREQS = (1209.0, 1336.0, 1477.0, 1633.0)
_KEYPAD = ("123A", "456B", "789C", "*0#D")
_TOLERANCE = 0.015


def goertzel_power(frame: np.ndarray, freq: float, sample_rate: int) -> float:
    """Reference Goertzel recurrence for one frequency: |X(f)|^2 of the frame."""
    coeff = 2.0 * np.cos(2.0 * np.pi * freq / sample_rate)
    s1 = s2 = 0.0
    for x in np.asarray(frame, dtype=np.float64):
        s1, s2 = x + coeff * s1 - s2, s1
    return float(s1 * s1 + s2 * s2 - coeff * s1 * s2)


def dtmf_tone(digit: str, duration_ms: int, sample_rate: int = 8000, level_dbfs: float = -10.0,
              twist_db: float = 0.0) -> np.ndarray:
    """int16 samples of a DTMF digit: the row tone at ``level_dbfs`` peak, the column tone
    ``twist_db`` weaker (positive = normal twist, as a long line attenuates highs)."""
    for r, row in enumerate(_KEYPAD):
        c = row.find(digit.upper())
        if c >= 0 and len(digit) == 1:
            break
    else:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    t = np.arange(sample_rate * duration_ms // 1000) / sample_rate
    amp = 32767 * 10 ** (level_dbfs / 20)
    wave = amp * np.sin(2 * np.pi * ROW_FREQS[r] * t)
    wave += amp * 10 ** (-twist_db / 20) * np.sin(2 * np.pi * COL_FREQS[c] * t)
    return np.clip(np.round(wave), -32768, 32767).astype(np.int16)


class InbandDtmfDetector:
    """Per-stream state: feed consecutive 20 ms frames with ``process(frame, now)``."""

    def __init__(self, sample_rate: int = 8000, frame_ms: int = 20, min_frames: int = 2,
                 min_level_dbfs: float = -36.0, max_normal_twist_db: float = 8.0,
                 max_reverse_twist_db: float = 4.0, min_energy_ratio: float = 0.75,
                 peak_margin_db: float = 6.0, max_harmonic_db: float = -12.0) -> None:
        self.sample_rate = sample_rate
        self.frame_ms = frame_ms
        self.min_frames = min_frames
        n = sample_rate * frame_ms // 1000
        self._n = n
        # second harmonics of the columns only: the rows' (1394, 1540, 1704 Hz) lie within
        # 75 Hz of columns 1336/1477/1633, inside a 20 ms frame's 100 Hz main lobe
        nominal = np.array(ROW_FREQS + COL_FREQS + tuple(2 * f for f in COL_FREQS))
        # three bins per tone (nominal and +-1.5%, the Q.24 tolerance) so a 20 ms frame's
        # wide bins do not lose an off-frequency tone's power
        freqs = np.outer(nominal, (1 - _TOLERANCE, 1.0, 1 + _TOLERANCE)).ravel()
        phase = 2 * np.pi * np.outer(np.arange(n), freqs) / sample_rate
        # (n, 72): cosine then sine parts of the 36 bins; a real product is ~10x faster
        self._basis = np.ascontiguousarray(np.concatenate([np.cos(phase), np.sin(phase)], 1))
        self._bins = freqs.size
        # a full-scale sine's bin power is (32767 n / 2)^2; thresholds are in those units
        full = (32767 * n / 2) ** 2
        self._min_power = full * 10 ** (min_level_dbfs / 10)
        self._normal_twist = 10 ** (max_normal_twist_db / 10)
        self._reverse_twist = 10 ** (max_reverse_twist_db / 10)
        self._energy_ratio = min_energy_ratio
        self._margin = 10 ** (peak_margin_db / 10)
        self._harmonic = 10 ** (max_harmonic_db / 10)
        self._current: str | None = None
        self._count = 0
        self._misses = 0
        self._started_at = 0.0

    def powers(self, frame: np.ndarray) -> np.ndarray:
        """Goertzel powers, shape (12, 3): rows 697..941, columns 1209..1633, column
        harmonics; each at -1.5 %, nominal and +1.5 % of the frequency."""
        x = np.asarray(frame, dtype=np.float64)
        if x.shape != (self._n,):
            raise ValueError(f"frame of {x.shape} samples, expected ({self._n},)")
        parts = x @ self._basis
        return (parts[: self._bins] ** 2 + parts[self._bins :] ** 2).reshape(12, 3)

    def classify(self, frame: np.ndarray) -> str | None:
        """The digit this one frame holds, or None."""
        x = np.asarray(frame, dtype=np.float64)
        power = self.powers(x).max(axis=1).tolist()  # 12 floats: plain Python is faster
        rows, cols = power[:4], power[4:8]
        row_p, col_p = max(rows), max(cols)
        if row_p < self._min_power or col_p < self._min_power:
            return None
        if row_p > col_p * self._normal_twist or col_p > row_p * self._reverse_twist:
            return None
        r, c = rows.index(row_p), cols.index(col_p)
        if sorted(rows)[-2] * self._margin > row_p or sorted(cols)[-2] * self._margin > col_p:
            return None
        if power[8 + c] > col_p * self._harmonic:
            return None
        energy = float(x @ x)
        if 2.0 * (row_p + col_p) / self._n < self._energy_ratio * energy:
            return None
        return _KEYPAD[r][c]

    def process(self, frame: np.ndarray, now: float) -> list[DtmfDigit]:
        """Classify one frame; returns the digit that just ended, if any.

        A digit survives one missed frame (a glitch mid-press); two misses or a different
        digit end it. It is reported only if it lasted ``min_frames`` frames.
        """
        digit = self.classify(frame)
        out: list[DtmfDigit] = []
        if digit is not None and digit == self._current:
            self._count += 1 + self._misses
            self._misses = 0
            return out
        if self._current is not None and digit is None and self._misses == 0:
            self._misses = 1
            return out
        if self._current is not None and self._count >= self.min_frames:
            out.append(DtmfDigit(self._current, self._started_at,
                                 self._count * self.frame_ms, "inband"))
        self._current, self._count, self._misses = digit, (1 if digit else 0), 0
        self._started_at = now
        return out

