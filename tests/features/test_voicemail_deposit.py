"""Leaving a message over real SIP/RTP: a call to an extension that is not registered, busy
(a SIPp phone answering 486) or not answering (a SIPp phone that only rings) reaches the
callee's mailbox: greeting, beep, the caller's words recorded until hang-up, a row and a WAV."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from softswitch.app import Switch
from softswitch.config import Config
from softswitch.store import MessageStatus
from tests.calls.harness import Sipp, add_users, calls_config, register, started_switch, wait_until
from tests.features.softphone import Phone, dominant_frequency, tone

USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b"}
BEEP_HZ = 1000.0


def voicemail_config(tmp: Path) -> Config:
    config = calls_config(tmp)
    features = {"calls": {"no_answer_timeout": 2}, "voicemail": {"min_seconds": 0.5}}
    return Config(sip=config.sip, http=config.http, security=config.security,
                  data_dir=config.data_dir, features=features)


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with started_switch(voicemail_config(tmp_path), USERS) as sw:
        yield sw


async def leave_message(switch: Switch, tmp_path: Path, words_hz: float = 600.0) -> None:
    """1001 calls 1002, waits for the beep, speaks a tone for 1.5 s and hangs up."""
    async with Phone(switch.sip_port, "1001", USERS["1001"]) as phone:
        response = await phone.call("1002")
        assert response.status == 200, response
        await phone.wait_for_tone(BEEP_HZ)
        await phone.say(tone(words_hz, 1.5))
        await phone.hangup()


async def the_message(switch: Switch) -> tuple[object, np.ndarray]:
    assert switch.database is not None and switch.voicemail is not None
    found: list[object] = []

    async def stored() -> bool:
        assert switch.database is not None
        found[:] = await switch.database.voicemail.messages("1002")
        return bool(found)

    await wait_until(stored, timeout=10)
    message = found[0]
    path = switch.voicemail.service.audio_path(message)  # type: ignore[arg-type]
    assert path.parent == switch.config.data_dir / "voicemail" / "1002"
    await wait_until(_async(lambda: path.is_file() and sf.info(str(path)).duration > 1.0))
    audio, rate = sf.read(str(path), dtype="int16")
    assert rate == 8000
    return message, audio


def _async(check):  # type: ignore[no-untyped-def]
    async def predicate() -> bool:
        return bool(check())
    return predicate


def loud_frequency(audio: np.ndarray) -> float:
    """The dominant frequency of the loud part of a recording."""
    frames = audio[: audio.size // 160 * 160].reshape(-1, 160)
    loud = frames[np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) > 1000]
    assert loud.size, "the recording is silent"
    return dominant_frequency(loud.reshape(-1))


async def test_unregistered_extension_takes_a_message(switch: Switch, tmp_path: Path) -> None:
    await leave_message(switch, tmp_path)
    message, audio = await the_message(switch)
    assert message.caller == "1001" and message.mailbox == "1002"  # type: ignore[attr-defined]
    assert message.status is MessageStatus.NEW  # type: ignore[attr-defined]
    assert 1.0 <= message.duration <= 6.0  # type: ignore[attr-defined]
    assert abs(loud_frequency(audio) - 600) < 15
    assert await switch.database.voicemail.counts("1002") == (1, 0)  # type: ignore[union-attr]


async def test_busy_extension_goes_to_voicemail(switch: Switch, tmp_path: Path) -> None:
    busy = await Sipp("call_uas_busy.xml").start()
    try:
        await register(switch, "1002", busy.port)
        await leave_message(switch, tmp_path, words_hz=700.0)
        code, out = await busy.wait()
        assert code == 0, out[-2000:]
    finally:
        busy.stop()
    _, audio = await the_message(switch)
    assert abs(loud_frequency(audio) - 700) < 15


async def test_unanswered_extension_goes_to_voicemail(switch: Switch, tmp_path: Path) -> None:
    ringing = await Sipp("call_uas_ring.xml").start()
    try:
        await register(switch, "1002", ringing.port)
        await leave_message(switch, tmp_path, words_hz=500.0)
        code, out = await ringing.wait()
        assert code == 0, out[-2000:]  # it rang, and was cancelled after the timeout
    finally:
        ringing.stop()
    _, audio = await the_message(switch)
    assert abs(loud_frequency(audio) - 500) < 15


async def test_voicemail_switched_off_gives_the_usual_failure(switch: Switch,
                                                              tmp_path: Path) -> None:
    assert switch.voicemail is not None
    await switch.voicemail.service.set_enabled("1002", False)
    async with Phone(switch.sip_port, "1001", USERS["1001"]) as phone:
        response = await phone.call("1002")
    assert response.status == 480
    assert await switch.database.voicemail.messages("1002") == []  # type: ignore[union-attr]


async def test_silence_ends_the_message_and_the_call(tmp_path: Path) -> None:
    config = voicemail_config(tmp_path)
    features = {**config.features, "voicemail": {"min_seconds": 0.5, "silence_seconds": 1.5}}
    switch = Switch(Config(sip=config.sip, http=config.http, security=config.security,
                           data_dir=config.data_dir, features=features))
    await switch.start()
    try:
        await add_users(switch, USERS)
        async with Phone(switch.sip_port, "1001", USERS["1001"]) as phone:
            assert (await phone.call("1002")).status == 200
            await phone.wait_for_tone(BEEP_HZ)
            await phone.say(tone(600.0, 1.0))
            await phone.wait_for_bye(timeout=20)  # silent: saved, "message saved", BYE
        message, audio = await the_message(switch)
        assert message.duration < 6.0  # type: ignore[attr-defined]
        assert abs(loud_frequency(audio) - 600) < 15
    finally:
        await switch.stop()
