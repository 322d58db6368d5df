"""Streaming resampler and transcoder."""

from __future__ import annotations

import numpy as np
import pytest

from media.codecs import get_codec
from media.codecs.resample import Resampler
from media.codecs.transcode import Transcoder


def sine(freq: float, rate: int, seconds: float, amp: float = 10000.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.round(amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def level(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(float) ** 2)))


def in_frames(r: Resampler, x: np.ndarray, size: int) -> np.ndarray:
    return np.concatenate([r.process(x[i : i + size]) for i in range(0, x.size, size)])


def test_upsampling_keeps_a_tone_and_its_level() -> None:
    x = sine(1000, 8000, 0.5)
    y = in_frames(Resampler(8000, 16000), x, 160)
    assert y.size == 2 * x.size
    spectrum = np.abs(np.fft.rfft(y[800:]))
    assert np.argmax(spectrum) * 16000 / y[800:].size == pytest.approx(1000, abs=3)
    assert level(y[800:]) == pytest.approx(level(x), rel=0.01)
    image = spectrum[int(7000 * y[800:].size / 16000)]  # the 7 kHz mirror image
    assert image < spectrum.max() * 10 ** (-50 / 20)


def test_downsampling_removes_content_above_4_khz() -> None:
    y_pass = in_frames(Resampler(16000, 8000), sine(1000, 16000, 0.5), 320)
    y_stop = in_frames(Resampler(16000, 8000), sine(6000, 16000, 0.5), 320)
    assert y_pass.size == 4000
    assert level(y_pass[100:]) == pytest.approx(10000 / np.sqrt(2), rel=0.01)
    assert level(y_stop[100:]) < 10000 / np.sqrt(2) * 10 ** (-50 / 20)


@pytest.mark.parametrize(("src", "dst", "sizes"), [(8000, 16000, (7, 160, 33)),
                                                    (16000, 8000, (7, 320, 33))])
def test_frame_split_gives_the_same_output(src: int, dst: int, sizes: tuple[int, ...]) -> None:
    x = sine(700, src, 0.1)
    whole = Resampler(src, dst).process(x)
    r = Resampler(src, dst)
    parts, i = [], 0
    for k in sizes * 20:
        if i >= x.size:
            break
        parts.append(r.process(x[i : i + k]))
        i += k
    assert np.array_equal(np.concatenate(parts), whole)


def test_rejects_non_integer_ratio_and_passes_through_equal_rates() -> None:
    with pytest.raises(ValueError, match="integer ratio"):
        Resampler(8000, 11025)
    x = sine(500, 8000, 0.02)
    assert np.array_equal(Resampler(8000, 8000).process(x), x)


def test_transcoder_g722_to_pcma_and_back_keeps_a_tone() -> None:
    to_narrow = Transcoder(get_codec("G722"), get_codec("PCMA"))
    to_wide = Transcoder(get_codec("PCMA"), get_codec("G722"))
    wide_enc, wide_dec = get_codec("G722"), get_codec("G722")
    x = sine(800, 16000, 0.4)
    out = []
    for i in range(0, x.size, 320):
        narrow = to_narrow(wide_enc.encode(x[i : i + 320]))
        assert len(narrow) == 160
        wide = to_wide(narrow)
        assert len(wide) == 160
        out.append(wide_dec.decode(wide))
    y = np.concatenate(out)[1600:]
    assert level(y) == pytest.approx(level(x), rel=0.1)
    assert np.argmax(np.abs(np.fft.rfft(y))) * 16000 / y.size == pytest.approx(800, abs=5)


def test_transcoder_same_rate_needs_no_resampler() -> None:
    t = Transcoder(get_codec("PCMU"), get_codec("PCMA"))
    assert t(bytes([0xFF]) * 160) == bytes([0xD5]) * 160
