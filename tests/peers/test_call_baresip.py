"""Two real softphones (Debian baresip-core 1.0) call each other through the switch.

Both register over UDP (MD5 only: libre 1.0 gives up on a SHA-256 challenge). Each plays its
own tone with `aufile` (caller 1 kHz, callee 440 Hz) and `sndfile` dumps what it decodes, so
the test checks the audio in both directions. The phones' RTP must come from the switch's
media ports (anchoring); equal codecs are relayed, different ones transcoded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from softswitch.app import Switch
from softswitch.config import Config, HttpConfig, SecurityConfig, SipConfig
from softswitch.store import Disposition, HangupSide
from tests.calls.harness import started_switch, wait_until
from tests.process import free_port


@pytest.fixture(autouse=True, scope="module")
def _baresip_installed() -> None:
    """Installed by `make setup`; a missing peer is a failure, never a silent skip."""
    assert shutil.which("baresip"), "baresip is missing: run `make setup` (Debian baresip-core)"


USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b"}
RATE = 8000
CALLER_TONE, CALLEE_TONE = 1000.0, 440.0


def write_tone(path: Path, freq: float, seconds: float = 4.0) -> Path:
    t = np.arange(int(RATE * seconds)) / RATE
    sf.write(path, (0.5 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16), RATE)
    return path


def tone_share(samples: np.ndarray, freq: float, width: float = 30.0) -> float:
    """Share of the signal's energy within ``width`` Hz of ``freq`` (Hann-windowed FFT)."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / RATE)
    total = float(spectrum.sum())
    return float(spectrum[np.abs(freqs - freq) <= width].sum()) / total if total else 0.0


def decoded_audio(directory: Path) -> np.ndarray:
    """What the phone received, as sndfile dumped it (one call: one *-dec.wav)."""
    [path] = list(directory.glob("dump-*-dec.wav"))
    samples, rate = sf.read(path, dtype="float64")
    assert rate == RATE
    return np.asarray(samples if samples.ndim == 1 else samples[:, 0])


class Phone:
    """One baresip process with its own config directory, stopped by its PID."""

    def __init__(self, directory: Path, account: str, tone: float) -> None:
        directory.mkdir(parents=True)
        self.dir = directory
        source = write_tone(directory / "source.wav", tone)
        (directory / "config").write_text(
            f"poll_method epoll\nsip_listen 127.0.0.1:{free_port()}\n"
            "net_interface 127.0.0.1\nmodule_path /usr/lib/baresip/modules\n"
            "module g711.so\nmodule aufile.so\nmodule sndfile.so\nmodule menu.so\n"
            f"module_app account.so\naudio_source aufile,{source}\n"
            f"audio_player aufile,/dev/null\nsnd_path {directory}\n")
        (directory / "accounts").write_text(account + "\n")
        self.log = directory / "baresip.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, *commands: str) -> Phone:
        args = ["baresip", "-f", str(self.dir), "-t", "20"]
        for command in commands:
            args += ["-e", command]
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, stdout=out,
                stderr=asyncio.subprocess.STDOUT)
        return self

    async def stop(self) -> None:
        """SIGTERM (baresip hangs up and unregisters), SIGKILL after 5 s."""
        if self.proc is None or self.proc.returncode is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            await asyncio.wait_for(self.proc.wait(), 5)

    def rtp_source_port(self) -> int:
        """The port baresip saw its incoming RTP come from."""
        found = re.search(r"receiving from 127\.0\.0\.1:(\d+)", self.log.read_text())
        assert found, self.log.read_text()[-2000:]
        return int(found.group(1))


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    config = Config(
        sip=SipConfig(host="127.0.0.1", port=0, ipv6=False),
        http=HttpConfig(host="127.0.0.1", port=0),
        security=SecurityConfig(digest_algorithms=("MD5",)),
        data_dir=tmp_path / "data",
    )
    async with started_switch(config, USERS) as sw:
        yield sw


@pytest.mark.parametrize(("caller_codec", "callee_codec"), [("PCMU", "PCMU"), ("PCMU", "PCMA")])
async def test_two_baresip_phones_talk_through_the_anchored_media(
    switch: Switch, tmp_path: Path, caller_codec: str, callee_codec: str
) -> None:
    assert switch.b2bua is not None and switch.media is not None and switch.location is not None
    location, b2bua, port = switch.location, switch.b2bua, switch.sip_port
    callee = Phone(tmp_path / "callee", f"<sip:1002@127.0.0.1:{port}>;auth_pass={USERS['1002']};"
                   f"regint=60;answermode=auto;audio_codecs={callee_codec}", CALLEE_TONE)
    caller = Phone(tmp_path / "caller", f"<sip:1001@127.0.0.1:{port}>;auth_pass={USERS['1001']};"
                   f"regint=60;audio_codecs={caller_codec}", CALLER_TONE)
    try:
        await callee.start()

        async def registered() -> bool:
            return bool(await location.contacts_for("1002"))

        await wait_until(registered, 8)
        await caller.start(f"/dial sip:1002@127.0.0.1:{port}")

        async def answered() -> bool:
            return any(c["state"] == "answered" for c in b2bua.calls())

        await wait_until(answered, 8)
        [summary] = b2bua.calls()
        assert (summary["codec_caller"], summary["codec_callee"]) == (caller_codec, callee_codec)
        assert summary["relayed"] is (caller_codec == callee_codec)
        assert switch.media.engine_stats().relaying_bridges == int(caller_codec == callee_codec)
        call = b2bua.find(summary["call_id"])
        assert call is not None and call.a is not None and call.b is not None
        leg_a, leg_b = call.a.media, call.b.media
        await asyncio.sleep(1.2)  # about a second of audio each way
        stats_a, stats_b = switch.media.stats(leg_a), switch.media.stats(leg_b)
        assert stats_a.packets_received > 25 and stats_b.packets_received > 25
        assert stats_a.packets_sent > 25 and stats_b.packets_sent > 25
        await caller.stop()
    finally:
        await caller.stop()
        await callee.stop()
    # Each phone's RTP came from the switch's port for its own leg, never from the other phone.
    assert caller.rtp_source_port() == stats_a.local[1]
    assert callee.rtp_source_port() == stats_b.local[1]
    heard_by_callee, heard_by_caller = decoded_audio(callee.dir), decoded_audio(caller.dir)
    for heard, tone, other in ((heard_by_callee, CALLER_TONE, CALLEE_TONE),
                               (heard_by_caller, CALLEE_TONE, CALLER_TONE)):
        middle = heard[len(heard) // 4: len(heard) * 3 // 4]
        assert len(middle) >= RATE // 4
        assert float(np.sqrt(np.mean(middle**2))) > 0.1  # not silence
        assert tone_share(middle, tone) > 0.8
        assert tone_share(middle, other) < 0.01

    async def closed() -> bool:
        assert switch.database is not None
        return any(r.disposition is not None for r in await switch.database.cdr.search())

    await wait_until(closed)
    assert switch.database is not None
    [record] = await switch.database.cdr.search()
    assert record.disposition is Disposition.ANSWERED
    assert record.hangup_side is HangupSide.CALLER
