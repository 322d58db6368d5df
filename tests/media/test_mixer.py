"""The N-1 mixer: each participant hears exactly everyone else, clipped safely."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from media.mixer import Mixer, ParticipantNotFoundError

S = 160


def tone(amplitude: int, freq: float = 400.0) -> np.ndarray:
    t = np.arange(S) / 8000
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def mixer_of(n: int, **kwargs: object) -> Mixer:
    m = Mixer(S, **kwargs)  # type: ignore[arg-type]
    for i in range(n):
        m.add(f"p{i}")
    return m


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.int16, st.tuples(st.integers(1, 12), st.just(S)), elements=st.integers(-2000, 2000))
)
def test_each_participant_hears_the_sum_of_all_others(frames: np.ndarray) -> None:
    m = mixer_of(frames.shape[0])
    out = m.mix(frames).frames
    expected = frames.astype(np.int64).sum(axis=0)[None, :] - frames.astype(np.int64)
    np.testing.assert_array_equal(out, np.clip(expected, -32768, 32767))


def test_lone_participant_hears_silence_not_their_own_echo() -> None:
    m = mixer_of(1)
    out = m.mix(tone(8000)[None, :]).frames
    assert not out.any()


def test_sum_clips_at_int16_instead_of_wrapping() -> None:
    m = mixer_of(4)
    loud = np.full((4, S), 30000, dtype=np.int16)
    loud[3] = -30000
    out = m.mix(loud).frames
    assert out.dtype == np.int16
    assert (out[3] == 32767).all()  # 90000 clipped, not wrapped to negative
    assert (out[0] == 30000).all()  # 30000 + 30000 - 30000: only the final sum is clipped


def test_muted_participant_is_not_heard_but_still_hears() -> None:
    m = mixer_of(3)
    m.set_muted("p0", True)
    frames = np.stack([tone(5000), tone(1000, 700), tone(2000, 900)])
    out = m.mix(frames).frames
    np.testing.assert_array_equal(out[1], frames[2])
    np.testing.assert_array_equal(out[2], frames[1])
    np.testing.assert_array_equal(out[0], frames[1].astype(np.int32) + frames[2])
    assert m.is_muted("p0")


def test_deaf_participant_hears_silence_but_is_heard() -> None:
    m = mixer_of(2)
    m.set_deaf("p1", True)
    frames = np.stack([tone(3000), tone(1000, 700)])
    out = m.mix(frames).frames
    assert not out[1].any()
    np.testing.assert_array_equal(out[0], frames[1])


def test_gain_scales_what_others_hear_of_a_participant() -> None:
    m = mixer_of(2)
    m.set_gain("p0", 0.5)
    frames = np.stack([np.full(S, 4000, np.int16), np.zeros(S, np.int16)])
    out = m.mix(frames).frames
    assert (out[1] == 2000).all()
    m.set_gain("p0", 8.0)  # 4000 * 8 = 32000 still fits
    assert (m.mix(frames).frames[1] == 32000).all()
    frames[0] = 5000  # 40000 saturates
    assert (m.mix(frames).frames[1] == 32767).all()
    with pytest.raises(ValueError):
        m.set_gain("p0", 9.0)


def test_talker_detection_with_hangover() -> None:
    m = mixer_of(3, hangover_ticks=2)
    silent = np.zeros((3, S), np.int16)
    speaking = silent.copy()
    speaking[1] = tone(6000)
    first = m.mix(speaking)
    assert first.started_talking == ("p1",)
    assert m.talking == frozenset({"p1"})
    assert m.mix(silent).stopped_talking == ()  # hangover tick 1
    assert m.mix(silent).stopped_talking == ()  # hangover tick 2
    assert m.mix(silent).stopped_talking == ("p1",)
    assert m.talking == frozenset()


def test_quiet_line_noise_is_not_a_talker() -> None:
    m = mixer_of(1)
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 60, (1, S)).astype(np.int16)  # about -55 dBov
    assert m.mix(noise).started_talking == ()


def test_remove_keeps_rows_aligned_with_keys() -> None:
    m = mixer_of(3)
    m.set_muted("p2", True)
    m.remove("p1")
    assert m.keys == ("p0", "p2")
    assert m.is_muted("p2") and not m.is_muted("p0")
    with pytest.raises(ParticipantNotFoundError):
        m.remove("p1")
    with pytest.raises(ValueError):
        m.add("p0")


def test_wrong_frame_shape_is_rejected() -> None:
    m = mixer_of(2)
    with pytest.raises(ValueError):
        m.mix(np.zeros((3, S), np.int16))


def test_mix_all_mixes_many_rooms_in_one_pass_without_crosstalk() -> None:
    from media.mixer import mix_all

    rng = np.random.default_rng(7)
    mixers = []
    for r, size in enumerate([5, 5, 3, 5, 1, 0, 100]):
        m = Mixer(S)
        for i in range(size):
            m.add(f"r{r}p{i}")
        mixers.append(m)
    mixers[1].set_muted("r1p2", True)
    mixers[3].set_deaf("r3p0", True)
    frames = rng.integers(-3000, 3000, (sum(len(m) for m in mixers), S)).astype(np.int16)
    batch = mix_all(mixers, frames)
    pos = 0
    for m, result in zip(mixers, batch.results, strict=True):
        rows = frames[pos : pos + len(m)].astype(np.int64)
        heard = rows.copy()
        heard[[m.is_muted(k) for k in m.keys]] = 0
        expected = heard.sum(axis=0)[None, :] - heard
        expected[[m.is_deaf(k) for k in m.keys]] = 0
        np.testing.assert_array_equal(result.frames, np.clip(expected, -32768, 32767))
        assert result.keys == m.keys
        pos += len(m)
    assert batch.frames.shape == frames.shape
