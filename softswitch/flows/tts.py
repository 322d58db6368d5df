"""Text spoken at run time (a patient's or an expert's name) through espeak-ng, cached on disk.

Fixed prompts are recorded once (``scripts/make_prompts.py`` uses :func:`render` from here);
names and department titles come from data, so a flow asks :class:`TextToSpeech` for a WAV
while the call runs. The result is 8 kHz mono 16-bit, trimmed like the recorded pieces, and
cached under the data directory keyed by text, language and voice, so each name is rendered
once per switch. Without espeak-ng (or when it fails or is slow) the caller hears the
``fallback`` pieces the flow names instead (an expert's number, a card's digits): the flow
keeps working, only less friendly.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import os
import shutil
import signal
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from media.player import resample, to_int16
from softswitch.flows.call import Call, Prompt

__all__ = ["RATE", "VOICES", "TextToSpeech", "render", "say_text", "wav_to_samples"]

log = logging.getLogger(__name__)

VOICES = {"zh": ("cmn-latn-pinyin", "150"), "en": ("en-us", "160")}
# "cmn" reads the pinyin its dictionary produces as English words; the pinyin voice speaks it.
RATE = 8000
SILENCE = 0.01  # below 1 % of full scale counts as silence when trimming
EDGE = 0.03  # seconds of silence kept at each end
MAX_TEXT = 200  # characters: names and titles, not paragraphs


def _command(engine: str, text: str, language: str) -> list[str]:
    voice, speed = VOICES[language]
    return [engine, "-v", voice, "-s", speed, "--stdout", text]


def wav_to_samples(wav: bytes) -> np.ndarray:
    """espeak-ng's WAV (22.05 kHz) as int16 samples at 8 kHz with the silent edges trimmed,
    so pieces played back to back flow."""
    data, rate = sf.read(io.BytesIO(wav), dtype="float64", always_2d=True)
    mono = resample(data.mean(axis=1), int(rate), RATE)
    loud = np.flatnonzero(np.abs(mono) > SILENCE)
    if loud.size:
        edge = int(EDGE * RATE)
        mono = mono[max(0, loud[0] - edge): loud[-1] + edge]
    return to_int16(mono)


def render(text: str, language: str, engine: str = "espeak-ng") -> np.ndarray:
    """Speak ``text`` now (blocking; for the prompt script): int16 samples at 8 kHz."""
    import subprocess

    wav = subprocess.run(_command(engine, text, language), check=True,
                         capture_output=True, timeout=60).stdout
    return wav_to_samples(wav)


class TextToSpeech:
    """Renders text to cached WAV files under ``cache_dir``; ``None`` when it cannot.

    ``engine`` is the espeak-ng executable (found on PATH by default; ``None`` turns TTS off).
    Concurrent requests for the same text share one rendering.
    """

    def __init__(self, cache_dir: Path, *, engine: str | None = "espeak-ng",
                 timeout: float = 10.0) -> None:
        self.cache_dir = Path(cache_dir)
        self.engine = shutil.which(engine) if engine else None
        self.timeout = timeout
        self._pending: dict[Path, asyncio.Future[Path | None]] = {}

    @property
    def available(self) -> bool:
        """True when espeak-ng was found."""
        return self.engine is not None

    def cache_path(self, text: str, language: str) -> Path:
        """Where ``text`` in ``language`` is (or will be) cached."""
        voice, speed = VOICES.get(language, ("", ""))
        key = hashlib.sha256(f"{voice}\0{speed}\0{text}".encode()).hexdigest()[:32]
        return self.cache_dir / language / f"{key}.wav"

    async def speak(self, text: str, language: str) -> Path | None:
        """The WAV of ``text``, rendering it on first use; None without TTS, for an unknown
        language, empty or overlong text, or when espeak-ng fails or times out."""
        text = " ".join(text.split())
        if not text or len(text) > MAX_TEXT or language not in VOICES:
            return None
        path = self.cache_path(text, language)
        if path.is_file():
            return path
        if self.engine is None:
            return None
        pending = self._pending.get(path)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Path | None] = asyncio.get_running_loop().create_future()
        self._pending[path] = future
        try:
            result = await self._render(self.engine, text, language, path)
            future.set_result(result)
            return result
        except BaseException:
            future.set_result(None)  # others waiting fall back; this caller sees its error
            raise
        finally:
            del self._pending[path]

    async def prompt(self, text: str, language: str,
                     fallback: Sequence[Prompt] = ()) -> list[Prompt]:
        """``[wav]`` of ``text``, or ``fallback`` (as a list) when it cannot be spoken."""
        path = await self.speak(text, language)
        return [path] if path is not None else list(fallback)

    async def _render(self, engine: str, text: str, language: str, path: Path) -> Path | None:
        proc = await asyncio.create_subprocess_exec(
            *_command(engine, text, language), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        try:
            wav, _ = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            log.warning("espeak-ng took over %.0f s for %r; using the fallback", self.timeout, text)
            return None
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                await proc.wait()
        if proc.returncode != 0 or not wav:
            log.warning("espeak-ng failed (exit %s) for %r; using the fallback",
                        proc.returncode, text)
            return None
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self._store, wav, path)
        except (OSError, RuntimeError, ValueError) as exc:  # bad audio, full disk...
            log.warning("cannot cache speech for %r: %s", text, exc)
            return None
        return path

    @staticmethod
    def _store(wav: bytes, path: Path) -> None:
        """Convert and write atomically: a half-written file is never played."""
        samples = wav_to_samples(wav)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        sf.write(str(partial), samples, RATE, subtype="PCM_16", format="WAV")
        os.replace(partial, path)


async def say_text(call: Call, tts: TextToSpeech | None, text: str,
                   fallback: Sequence[Prompt] = (), *, barge_in: bool = True) -> bool:
    """Speak ``text`` in the call's language, or play ``fallback`` without TTS."""
    items = await tts.prompt(text, call.language, fallback) if tts else list(fallback)
    return await call.play(items, barge_in=barge_in) if items else True
