"""In-band DTMF: Goertzel detection of generated tones, rejection of speech and noise."""

from __future__ import annotations

import numpy as np
import pytest

from media.dtmf import DIGITS, InbandDtmfDetector, dtmf_tone, goertzel_power
from media.dtmf.inband import COL_FREQS, ROW_FREQS

FRAME = 160


def frames(signal: np.ndarray) -> list[np.ndarray]:
    return [signal[i : i + FRAME] for i in range(0, len(signal) - FRAME + 1, FRAME)]


def run(det: InbandDtmfDetector, signal: np.ndarray) -> list[tuple[str, float, int]]:
    out = []
    for i, f in enumerate(frames(signal)):
        out += [(d.digit, d.timestamp, d.duration_ms) for d in det.process(f, i * 0.02)]
    return out


def silence(ms: int) -> np.ndarray:
    return np.zeros(8 * ms, np.int16)


def two_tones(row: float, col: float, n: int, level_dbfs: float, twist_db: float = 0.0,
              phase: float = 0.0) -> np.ndarray:
    t = np.arange(n) / 8000
    amp = 32767 * 10 ** (level_dbfs / 20)
    w = amp * np.sin(2 * np.pi * row * t + phase)
    w += amp * 10 ** (-twist_db / 20) * np.sin(2 * np.pi * col * t)
    return np.round(w).astype(np.int16)


def test_matrix_power_equals_goertzel_recurrence() -> None:
    det = InbandDtmfDetector()
    x = dtmf_tone("5", 20, level_dbfs=-12.0)
    via_matrix = det.powers(x)[:8, 1]  # the nominal-frequency bin of each DTMF tone
    reference = [goertzel_power(x, f, 8000) for f in ROW_FREQS + COL_FREQS]
    assert via_matrix == pytest.approx(reference, rel=1e-9)


def test_detects_every_digit_once_with_time_and_duration() -> None:
    signal = np.concatenate([silence(40)] + [
        np.concatenate([dtmf_tone(d, 100), silence(60)]) for d in DIGITS
    ])
    got = run(InbandDtmfDetector(), signal)
    assert "".join(d for d, _, _ in got) == DIGITS
    assert got[0][1] == pytest.approx(0.04)
    assert got[1][1] == pytest.approx(0.04 + 0.16)
    assert {ms for _, _, ms in got} == {100}


@pytest.mark.parametrize("digit", list(DIGITS))
@pytest.mark.parametrize(("level", "twist", "dev"), [
    (-6.0, 0.0, 1.0), (-25.0, 0.0, 1.0), (-12.0, 7.0, 1.0), (-12.0, -3.0, 1.0),
    (-12.0, 0.0, 0.985), (-12.0, 0.0, 1.015),
])
def test_accepts_levels_twist_and_frequency_tolerance(digit: str, level: float, twist: float,
                                                      dev: float) -> None:
    r = next(i for i, row in enumerate(("123A", "456B", "789C", "*0#D")) if digit in row)
    c = ("123A", "456B", "789C", "*0#D")[r].index(digit)
    x = two_tones(ROW_FREQS[r] * dev, COL_FREQS[c] * dev, FRAME, level, twist, phase=0.7)
    assert InbandDtmfDetector().classify(x) == digit


@pytest.mark.parametrize(("level", "twist"), [(-45.0, 0.0), (-10.0, 12.0), (-10.0, -8.0)])
def test_rejects_too_quiet_and_excess_twist(level: float, twist: float) -> None:
    assert InbandDtmfDetector().classify(two_tones(770, 1336, FRAME, level, twist)) is None


def test_rejects_single_tones_and_off_frequency_pairs() -> None:
    det = InbandDtmfDetector()
    t = np.arange(FRAME) / 8000
    assert det.classify((8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)) is None
    assert det.classify((8000 * np.sin(2 * np.pi * 697 * t)).astype(np.int16)) is None
    assert det.classify(two_tones(697 * 1.06, 1209 * 1.06, FRAME, -10.0)) is None


def test_digit_shorter_than_40_ms_is_not_reported() -> None:
    signal = np.concatenate([silence(20), dtmf_tone("4", 20), silence(60)])
    assert run(InbandDtmfDetector(), signal) == []


def test_one_glitched_frame_does_not_split_a_long_press() -> None:
    tone = dtmf_tone("0", 200).copy()
    tone[FRAME : 2 * FRAME] = 0  # the second frame lost (e.g. concealment silence)
    got = run(InbandDtmfDetector(), np.concatenate([tone, silence(60)]))
    assert [(d, ms) for d, _, ms in got] == [("0", 200)]


def test_digit_in_white_noise_at_20_db_snr() -> None:
    rng = np.random.default_rng(7)
    tone = dtmf_tone("8", 100, level_dbfs=-10.0)
    noise = rng.normal(0, 32767 * 10 ** (-10 / 20) / 10 * 1.0, tone.size)
    signal = np.concatenate([silence(20), (tone + noise).astype(np.int16), silence(60)])
    assert [d for d, _, _ in run(InbandDtmfDetector(), signal)] == ["8"]


def _vowels(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """Steady synthetic vowels: harmonics of a pitch shaped by three formants."""
    t = np.arange(FRAME * 10) / 8000
    out = []
    for _ in range(count):
        pitch = rng.uniform(80, 300)
        formants = rng.uniform([300, 900, 2200], [900, 2200, 3200])
        sig = np.zeros(t.size)
        for k in range(1, int(3800 / pitch)):
            gain = sum(1 / (1 + ((k * pitch - f) / 80) ** 2) for f in formants)
            sig += gain * np.sin(2 * np.pi * k * pitch * t + rng.uniform(0, 2 * np.pi))
        level = 32767 * 10 ** (rng.uniform(-30, -3) / 20)
        out.append((sig / np.max(np.abs(sig)) * level).astype(np.int16))
    return out


def test_speech_like_signals_do_not_trigger() -> None:
    vowels = _vowels(np.random.default_rng(1), 60)
    det = InbandDtmfDetector()
    assert [d for v in vowels for d in run(det, v)] == []
    # the test has teeth: without the energy-ratio and harmonic checks the same audio fires
    loose = InbandDtmfDetector(min_energy_ratio=0.0, max_harmonic_db=100.0)
    assert sum(loose.classify(f) is not None for v in vowels for f in frames(v)) > 0


def test_white_noise_does_not_trigger() -> None:
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 3000, FRAME * 200).astype(np.int16)
    assert run(InbandDtmfDetector(), noise) == []


def test_generator_levels_and_errors() -> None:
    x = dtmf_tone("1", 50, level_dbfs=-6.0)
    assert x.dtype == np.int16 and x.size == 400
    assert np.max(np.abs(x)) <= 32767 * 2 * 10 ** (-6 / 20) + 1
    with pytest.raises(ValueError, match="not a DTMF digit"):
        dtmf_tone("Z", 50)
    with pytest.raises(ValueError, match="expected"):
        InbandDtmfDetector().classify(np.zeros(100, np.int16))
