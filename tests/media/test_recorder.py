"""Recordings: stereo/mixed, WAV/FLAC, readable while open and after a crash."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from media.recorder import JOURNAL_SUFFIX, Recorder, RecorderClosedError, recover


def frames(value: int, n: int = 160, channels: int = 2) -> np.ndarray:
    block = np.full((n, channels), value, np.int16)
    if channels == 2:
        block[:, 1] = -value
    return block


def test_stereo_wav_keeps_one_side_per_channel(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    rec = Recorder(path, channels=2)
    for i in range(50):
        rec.write(frames(i * 10))
    rec.close()
    data, rate = sf.read(path, dtype="int16")
    assert rate == 8000 and data.shape == (8000, 2)
    assert data[160 * 7, 0] == 70 and data[160 * 7, 1] == -70


def test_wav_is_readable_while_still_being_recorded(tmp_path: Path) -> None:
    path = tmp_path / "live.wav"
    rec = Recorder(path, channels=1)
    rec.write(np.arange(800, dtype=np.int16))
    rec.flush()
    rec.write(np.ones(800, dtype=np.int16))  # queued, not yet flushed
    data, _ = sf.read(path, dtype="int16")
    np.testing.assert_array_equal(data, np.arange(800))
    rec.close()
    assert sf.info(str(path)).frames == 1600


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_recording_survives_abrupt_process_death(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"crash{suffix}"
    script = textwrap.dedent(
        f"""
        import os, numpy as np
        from media.recorder import Recorder
        rec = Recorder({str(path)!r}, channels=2)
        for second in range(3):
            rec.write(np.full((8000, 2), second + 1, np.int16))
            rec.flush()
        rec.write(np.full((4000, 2), 9, np.int16))  # never flushed: may be lost
        os._exit(0)  # no close, no atexit: like kill -9
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30, cwd=Path.cwd())
    if suffix == ".flac":
        assert not path.exists()
        assert recover(tmp_path) == [path]
        assert not list(tmp_path.glob("*" + JOURNAL_SUFFIX))
    data, _ = sf.read(path, dtype="int16")
    assert data.shape[0] >= 24000
    np.testing.assert_array_equal(data[:24000:8000, 0], [1, 2, 3])


def test_flac_recording_is_encoded_on_close(tmp_path: Path) -> None:
    path = tmp_path / "mix.flac"
    rec = Recorder(path, channels=1, sample_rate=16000)
    rec.write(np.arange(-3200, 3200, dtype=np.int16))
    rec.close()
    info = sf.info(str(path))
    assert (info.format, info.samplerate, info.frames) == ("FLAC", 16000, 6400)
    data, _ = sf.read(path, dtype="int16")
    np.testing.assert_array_equal(data, np.arange(-3200, 3200))
    assert not (tmp_path / ("mix.flac" + JOURNAL_SUFFIX)).exists()


def test_invalid_use_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Recorder(tmp_path / "x.mp3")
    rec = Recorder(tmp_path / "x.wav", channels=2)
    with pytest.raises(ValueError):
        rec.write(np.zeros((10, 1), np.int16))
    rec.close()
    rec.close()  # idempotent
    with pytest.raises(RecorderClosedError):
        rec.write(np.zeros((10, 2), np.int16))
