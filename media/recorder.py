"""Call recording to WAV or FLAC that survives a crash, losing at most the last seconds.

WAV is written directly; libsndfile rewrites the RIFF header on every flush, so the file
on disk is always a valid WAV of everything flushed so far, and a crashed recording is
simply shorter. FLAC cannot be read back before its encoder finalises the stream info, so
a FLAC recording is journaled as ``<name>.flac.partial.wav`` and encoded when closed;
:func:`recover` turns journals left by a crash into their FLAC files.

Stereo recordings put one side of the call per channel (what compliance reviewers want:
who said what); mixed ones hold the sum. Writing blocks on the disk, so the engine calls
:meth:`Recorder.flush` from an executor with the frames it buffered.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

__all__ = ["JOURNAL_SUFFIX", "Recorder", "RecorderClosedError", "recover"]

JOURNAL_SUFFIX = ".partial.wav"
_FORMATS = {".wav": "WAV", ".flac": "FLAC"}


class RecorderClosedError(RuntimeError):
    """Frames were written to a recorder that is already closed."""


def _format_of(path: Path) -> str:
    try:
        return _FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"recording must end in .wav or .flac, not {path.name!r}") from None


class Recorder:
    """Buffers frames in memory and writes them on :meth:`flush`.

    ``channels`` is 2 for one side per channel or 1 for a mix; ``write`` takes
    ``(samples,)`` or ``(samples, channels)`` int16 arrays.
    """

    def __init__(self, path: str | Path, *, sample_rate: int = 8000, channels: int = 2) -> None:
        if channels not in (1, 2):
            raise ValueError(f"recordings are mono or stereo, not {channels} channels")
        self.path = Path(path)
        self.format = _format_of(self.path)
        self.sample_rate = sample_rate
        self.channels = channels
        self._target = (
            self.path
            if self.format == "WAV"
            else self.path.with_name(self.path.name + JOURNAL_SUFFIX)
        )
        self._file: sf.SoundFile | None = sf.SoundFile(
            str(self._target),
            "w",
            samplerate=sample_rate,
            channels=channels,
            format="WAV",
            subtype="PCM_16",
        )
        self._pending: list[np.ndarray] = []
        self.frames_written = 0
        self.frames_pending = 0

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._file is None

    def write(self, frames: np.ndarray) -> None:
        """Queue frames (cheap, called on the tick); they reach the disk on ``flush``."""
        if self._file is None:
            raise RecorderClosedError(f"recorder {self.path} is closed")
        block = np.asarray(frames, dtype=np.int16)
        if block.ndim == 1:
            block = block[:, None]
        if block.shape[1] != self.channels:
            raise ValueError(f"{block.shape[1]}-channel frames for a {self.channels}-channel file")
        self._pending.append(block)
        self.frames_pending += block.shape[0]

    def take_pending(self) -> np.ndarray | None:
        """Detach the queued frames (on the loop) so a worker thread can write them."""
        if not self._pending:
            return None
        block = np.concatenate(self._pending)
        self._pending = []
        self.frames_pending = 0
        return block

    def write_block(self, block: np.ndarray | None) -> None:
        """Write and flush a detached block (blocking: run it in an executor)."""
        if self._file is None:
            raise RecorderClosedError(f"recorder {self.path} is closed")
        if block is not None:
            self._file.write(block)
            self.frames_written += block.shape[0]
        self._file.flush()

    def flush(self) -> None:
        """Write everything queued and make it durable in the file header."""
        self.write_block(self.take_pending())

    def close(self) -> None:
        """Flush, close and, for FLAC, encode the journal into the final file."""
        if self._file is None:
            return
        self.flush()
        self._file.close()
        self._file = None
        if self.format == "FLAC":
            _journal_to_flac(self._target, self.path)


def _journal_to_flac(journal: Path, final: Path) -> None:
    data, rate = sf.read(str(journal), dtype="int16", always_2d=True)
    tmp = final.with_name(final.name + ".tmp")
    sf.write(str(tmp), data, rate, format="FLAC", subtype="PCM_16")
    tmp.replace(final)  # atomic: a crash leaves either the journal or the finished FLAC
    journal.unlink()


def recover(directory: str | Path) -> list[Path]:
    """Finish FLAC recordings whose process died: journal -> ``.flac``; returns them."""
    done = []
    for journal in sorted(Path(directory).rglob("*" + JOURNAL_SUFFIX)):
        final = journal.with_name(journal.name[: -len(JOURNAL_SUFFIX)])
        _journal_to_flac(journal, final)
        done.append(final)
    return done
