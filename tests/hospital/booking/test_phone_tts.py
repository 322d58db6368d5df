"""Run-time TTS for names: espeak-ng renders 8 kHz WAVs once and caches them; without it (or
when it fails) the flow gets its fallback pieces and still works."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import soundfile as sf

from softswitch.flows import Call
from softswitch.flows.tts import TextToSpeech, say_text
from softswitch.testing import run_flow


def test_espeak_ng_is_installed() -> None:
    """`make setup` installs it (Debian espeak-ng); a missing TTS must fail here, not skip."""
    assert shutil.which("espeak-ng"), "espeak-ng is missing: run `make setup`"


async def test_a_name_is_rendered_to_an_8khz_wav_and_cached(tmp_path: Path) -> None:
    tts = TextToSpeech(tmp_path / "tts")
    assert tts.available
    path = await tts.speak("张伟", "zh")
    assert path is not None and path.is_file() and path.is_relative_to(tmp_path / "tts")
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
    assert 0.2 < info.duration < 5
    samples, _ = sf.read(str(path), dtype="int16")
    assert abs(samples).max() > 1000  # speech, not silence
    mtime = path.stat().st_mtime_ns
    assert await tts.speak("张伟", "zh") == path  # cached: the same file, not re-rendered
    assert path.stat().st_mtime_ns == mtime
    english = await tts.speak("Doctor Smith", "en")
    assert english is not None and english != path
    assert await tts.speak("张伟", "en") not in (None, path)  # the language is part of the key


async def test_concurrent_requests_for_one_name_share_one_rendering(tmp_path: Path) -> None:
    tts = TextToSpeech(tmp_path / "tts")
    paths = await asyncio.gather(*(tts.speak("李娜", "zh") for _ in range(5)))
    assert len(set(paths)) == 1 and paths[0] is not None
    assert [p.name for p in (tmp_path / "tts" / "zh").iterdir()] == [paths[0].name]


async def test_without_espeak_the_fallback_is_used(tmp_path: Path) -> None:
    tts = TextToSpeech(tmp_path / "tts", engine=None)
    assert not tts.available
    assert await tts.speak("张伟", "zh") is None
    assert await tts.prompt("张伟", "zh", ["expert_word", "n1"]) == ["expert_word", "n1"]


async def test_bad_text_and_unknown_languages_fall_back(tmp_path: Path) -> None:
    tts = TextToSpeech(tmp_path / "tts")
    assert await tts.speak("   ", "zh") is None
    assert await tts.speak("x" * 500, "en") is None
    assert await tts.speak("Bonjour", "fr") is None


async def test_a_failing_engine_falls_back_and_caches_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "espeak-broken"
    broken.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    broken.chmod(0o755)
    tts = TextToSpeech(tmp_path / "tts", engine=str(broken))
    assert tts.available
    assert await tts.prompt("张伟", "zh", ["n1"]) == ["n1"]
    assert not (tmp_path / "tts").exists()


async def test_a_hanging_engine_is_killed_after_the_timeout(tmp_path: Path) -> None:
    slow = tmp_path / "espeak-slow"
    pid_file = tmp_path / "pid"
    slow.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 30\n")
    slow.chmod(0o755)
    tts = TextToSpeech(tmp_path / "tts", engine=str(slow), timeout=0.5)
    assert await asyncio.wait_for(tts.speak("张伟", "zh"), 10) is None
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError(f"espeak stand-in {pid} still runs")


async def test_say_text_plays_the_name_or_the_fallback_in_a_flow(tmp_path: Path) -> None:
    spoken = TextToSpeech(tmp_path / "tts")
    silent = TextToSpeech(tmp_path / "none", engine=None)

    async def flow(call: Call) -> None:
        await call.answer()
        await say_text(call, spoken, "王芳", ["n1"])
        await say_text(call, silent, "王芳", ["expert_word", "n2"])
        await say_text(call, None, "王芳", ["n3"])

    result = await run_flow(flow)
    name = spoken.cache_path("王芳", "zh").stem
    assert result.prompts == (name, "expert_word", "n2", "n3")
    assert result.ended_by == "flow"
