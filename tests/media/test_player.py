"""Prompt decoding, resampling, caching and frame-by-frame playback with barge-in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from media.player import Player, PromptCache, PromptError, resample


def sine(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return amp * np.sin(2 * np.pi * freq * t)


def dominant_frequency(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum) * rate / x.size)


def test_resample_keeps_pitch_and_length() -> None:
    y = resample(sine(440, 44100, 1.0), 44100, 8000)
    assert y.size == 8000
    assert dominant_frequency(y, 8000) == pytest.approx(440, abs=2)
    assert np.max(np.abs(y[1000:7000])) == pytest.approx(0.5, abs=0.02)


def test_downsampling_removes_content_above_the_new_nyquist() -> None:
    # 6 kHz cannot exist at 8 kHz: it must vanish, not alias to 2 kHz
    y = resample(sine(6000, 48000, 0.5), 48000, 8000)
    assert np.max(np.abs(y[200:-200])) < 0.01


def test_cache_decodes_a_stereo_flac_once_per_rate(tmp_path: Path) -> None:
    path = tmp_path / "greeting.flac"
    left = sine(300, 16000, 0.5)
    sf.write(path, np.stack([left, left], axis=1), 16000)
    cache = PromptCache()
    a = cache.load(path, 8000)
    b = cache.load(path, 8000)
    assert a is b and cache.decodes == 1
    assert a.dtype == np.int16 and a.size == 4000
    assert dominant_frequency(a.astype(float), 8000) == pytest.approx(300, abs=3)
    assert cache.load(path, 16000).size == 8000 and cache.decodes == 2
    with pytest.raises(ValueError):
        a[0] = 1  # shared between calls, so read-only


def test_cache_evicts_least_recently_used(tmp_path: Path) -> None:
    cache = PromptCache(max_entries=2)
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"p{i}.wav")
        sf.write(paths[-1], sine(200 + i * 100, 8000, 0.1), 8000)
    cache.load(paths[0], 8000)
    cache.load(paths[1], 8000)
    cache.load(paths[0], 8000)
    cache.load(paths[2], 8000)  # evicts p1, the least recently used
    assert len(cache) == 2
    cache.load(paths[0], 8000)
    assert cache.decodes == 3
    cache.load(paths[1], 8000)
    assert cache.decodes == 4


def test_missing_or_broken_prompt_raises_prompt_error(tmp_path: Path) -> None:
    cache = PromptCache()
    with pytest.raises(PromptError):
        cache.load(tmp_path / "nope.wav", 8000)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    with pytest.raises(PromptError):
        cache.load(junk, 8000)


def test_playlist_plays_clips_back_to_back_and_pads_the_last_frame() -> None:
    a = np.arange(1, 201, dtype=np.int16)
    b = np.full(50, 7, np.int16)
    player = Player([a, b], 160)
    frames = []
    for _ in range(10):
        frame = player.next_frame()
        if frame is None:
            break
        frames.append(frame)
    assert len(frames) == 2 == player.frames_total
    joined = np.concatenate(frames)
    np.testing.assert_array_equal(joined[:250], np.concatenate([a, b]))
    assert not joined[250:].any()
    assert player.done and not player.cancelled


def test_looping_player_wraps_seamlessly() -> None:
    clip = np.arange(100, dtype=np.int16)
    player = Player([clip], 160, loop=True)
    out = np.concatenate([player.next_frame() for _ in range(5)])  # type: ignore[misc]
    np.testing.assert_array_equal(out, np.tile(clip, 8))
    assert not player.done


def test_cancel_stops_at_the_next_frame_and_keeps_the_reason() -> None:
    player = Player([np.ones(1600, np.int16)], 160)
    assert player.next_frame() is not None
    player.cancel("digit 5")
    assert player.next_frame() is None
    assert player.cancel_reason == "digit 5" and player.frames_played == 1
