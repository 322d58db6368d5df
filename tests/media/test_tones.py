"""Call-progress tones: frequency, level, cadence, phase continuity."""

from __future__ import annotations

import numpy as np
import pytest

from media.tones import BEEP, PLANS, ToneGenerator, ToneSpec, tone


def on_frames(gen: ToneGenerator, count: int) -> list[bool]:
    return [bool(np.any(gen.next_frame())) for _ in range(count)]


def dominant_freq(x: np.ndarray, rate: int = 8000) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum) * rate / x.size)


@pytest.mark.parametrize(("plan", "freq"), [("cn", 450.0), ("itu", 425.0)])
def test_dial_tone_is_continuous_at_plan_frequency(plan: str, freq: float) -> None:
    gen = ToneGenerator(tone(plan, "dial"))
    x = np.concatenate([gen.next_frame() for _ in range(50)])  # 1 s
    assert x.dtype == np.int16 and x.size == 8000
    assert dominant_freq(x) == pytest.approx(freq, abs=1.0)
    rms_dbfs = 20 * np.log10(np.sqrt(np.mean(x.astype(float) ** 2)) * np.sqrt(2) / 32767)
    assert rms_dbfs == pytest.approx(-13.0, abs=0.1)


@pytest.mark.parametrize(("plan", "name", "on", "off"), [
    ("cn", "ringback", 50, 200), ("cn", "busy", 17.5, 17.5), ("cn", "congestion", 35, 35),
    ("itu", "ringback", 50, 200), ("itu", "busy", 25, 25), ("itu", "congestion", 10, 10),
])
def test_cadence_in_frames(plan: str, name: str, on: float, off: float) -> None:
    gen = ToneGenerator(tone(plan, name))
    period = int(on + off)
    pattern = on_frames(gen, period * 2)
    if on == int(on):
        expected = ([True] * int(on) + [False] * int(off)) * 2
        assert pattern == expected
    else:  # 350 ms cadence: half a frame of tone at the boundaries
        assert sum(pattern) == pytest.approx(2 * on, abs=2)
    assert pattern[:period] == pattern[period:]  # the cadence repeats exactly


def test_phase_is_continuous_across_frames() -> None:
    gen = ToneGenerator(tone("cn", "dial"))
    x = np.concatenate([gen.next_frame() for _ in range(3)]).astype(float)
    ref = 32767 * 10 ** (-13 / 20) * np.sin(2 * np.pi * 450 * np.arange(480) / 8000)
    assert np.max(np.abs(x - ref)) <= 1.0


def test_beep_plays_once_then_iteration_ends() -> None:
    frames = list(ToneGenerator(BEEP))
    assert len(frames) == 10  # 200 ms
    assert all(np.any(f) for f in frames)
    assert dominant_freq(np.concatenate(frames)) == pytest.approx(1000, abs=5)


def test_wideband_generator_frame_size() -> None:
    gen = ToneGenerator(tone("itu", "dial"), sample_rate=16000)
    assert gen.next_frame().shape == (320,)


def test_dual_frequency_spec_and_errors() -> None:
    gen = ToneGenerator(ToneSpec("us-dial", (350.0, 440.0)))
    x = gen.next_frame()
    assert np.max(np.abs(x)) > 32767 * 10 ** (-13 / 20)  # two tones add
    with pytest.raises(ValueError, match="frequency"):
        ToneSpec("none", ())
    with pytest.raises(KeyError, match="plans"):
        tone("mars", "dial")
    assert set(PLANS["cn"]) == {"dial", "ringback", "busy", "congestion"}
