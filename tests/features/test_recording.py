"""Call recording over real SIP/RTP on 127.0.0.1: `*1` during a bridged call starts recording
with a beep both phones hear, `*1` again stops it; the policy records an extension's calls
without a key; stereo files (caller | callee) linked from the CDR, checked by tone analysis,
listed and served by the API; retention deletes old files."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import httpx
import numpy as np
import pytest
import soundfile as sf

from softswitch.app import Switch
from softswitch.config import Config
from softswitch.store.recordings import split_files
from tests.calls.harness import add_users, calls_config, closed_record
from tests.features.softphone import Phone, dominant_frequency, tone

USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b"}
BEEP_HZ = 1000.0


def recording_config(tmp: Path, **recording: object) -> Config:
    config = calls_config(tmp)
    return Config(sip=config.sip, http=config.http, security=config.security,
                  data_dir=config.data_dir,
                  features={"voicemail": {"enabled": False}, "recording": recording})


async def running(tmp: Path, **recording: object) -> Switch:
    switch = Switch(recording_config(tmp, **recording))
    await switch.start()
    await add_users(switch, USERS)
    return switch


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    sw = await running(tmp_path)
    try:
        yield sw
    finally:
        await sw.stop()


async def talk(caller: Phone, callee: Phone) -> None:
    """Both speak at once for 1.5 s: the caller at 600 Hz, the callee at 900 Hz."""
    await asyncio.gather(caller.say(tone(600.0, 1.5)), callee.say(tone(900.0, 1.5)))


def channel_tones(path: Path) -> tuple[float, float]:
    """The dominant frequency of the loud part of each channel of a stereo recording."""
    audio, rate = sf.read(str(path), dtype="int16", always_2d=True)
    assert rate == 8000 and audio.shape[1] == 2
    found = []
    for channel in (0, 1):
        frames = audio[: audio.shape[0] // 160 * 160, channel].reshape(-1, 160)
        loud = frames[np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) > 1000]
        assert loud.size, f"channel {channel} is silent"
        found.append(dominant_frequency(loud.reshape(-1)))
    return found[0], found[1]


async def test_star1_toggles_recording_with_a_beep_and_links_the_file(
        switch: Switch, tmp_path: Path) -> None:
    async with Phone(switch.sip_port, "1002", USERS["1002"], auto_answer=True) as callee, \
            Phone(switch.sip_port, "1001", USERS["1001"]) as caller:
        assert (await callee.register()).status == 200
        assert (await caller.call("1002")).status == 200
        await caller.send_digits("*1")
        start_caller = await caller.wait_for_tone(BEEP_HZ)
        start_callee = await callee.wait_for_tone(BEEP_HZ)
        assert switch.recording is not None
        call_id = caller.dialog.call_id  # type: ignore[union-attr]
        assert switch.recording.service.recording(call_id)
        await talk(caller, callee)
        await caller.send_digits("*1")  # stop: a second beep
        await caller.wait_for_tone(BEEP_HZ, after=start_caller + 8000)
        await callee.wait_for_tone(BEEP_HZ, after=start_callee + 8000)
        assert not switch.recording.service.recording(call_id)
        await caller.hangup()
    record = await closed_record(switch, "1002")
    files = split_files(record.recording)
    assert len(files) == 1
    path = switch.config.data_dir / "recordings" / files[0]
    caller_hz, callee_hz = channel_tones(path)
    assert abs(caller_hz - 600) < 15 and abs(callee_hz - 900) < 15

    base = f"http://127.0.0.1:{switch.http_port}"
    auth = {"Authorization": f"Bearer {switch.admin_token}"}
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=10) as client:
        listed = (await client.get("/api/recordings")).json()
        assert [r["call_id"] for r in listed] == [call_id]
        assert listed[0]["caller"] == "1001" and listed[0]["callee"] == "1002"
        url = listed[0]["files"][0]
        assert url == f"/api/recordings/{quote(call_id, safe='')}/1"
        listen = await client.get(url)
        assert listen.status_code == 200 and listen.headers["content-type"] == "audio/wav"
        assert listen.headers["content-disposition"].startswith("inline")
        data, _ = sf.read(io.BytesIO(listen.content), dtype="int16", always_2d=True)
        assert data.shape[1] == 2
        download = await client.get(url, params={"download": "true"})
        assert download.headers["content-disposition"].startswith("attachment")
        assert (await client.get(url[:-1] + "2")).status_code == 404
        assert (await client.get("/api/recordings/nope")).status_code == 404
        assert (await client.get("/api/recordings", params={"limit": 0})).status_code == 422


async def test_policy_records_an_extensions_calls_without_a_key(tmp_path: Path) -> None:
    switch = await running(tmp_path, extensions=["1002"])
    try:
        async with Phone(switch.sip_port, "1002", USERS["1002"], auto_answer=True) as callee, \
                Phone(switch.sip_port, "1001", USERS["1001"]) as caller:
            assert (await callee.register()).status == 200
            assert (await caller.call("1002")).status == 200
            await talk(caller, callee)
            await caller.hangup()
        record = await closed_record(switch, "1002")
        files = split_files(record.recording)
        assert len(files) == 1
        caller_hz, callee_hz = channel_tones(switch.config.data_dir / "recordings" / files[0])
        assert abs(caller_hz - 600) < 15 and abs(callee_hz - 900) < 15
    finally:
        await switch.stop()


async def test_retention_deletes_old_recordings(switch: Switch) -> None:
    assert switch.database is not None and switch.recording is not None
    service = switch.recording.service
    from softswitch.store import CallRecord

    old, new = time.time() - 100 * 86400, time.time()
    for call_id, started in (("old-call", old), ("new-call", new)):
        await switch.database.cdr.open(CallRecord(call_id, "1001", "1002", "1002", "extension",
                                                  started))
        name = f"test/{call_id}-1.wav"
        (service.root / "test").mkdir(parents=True, exist_ok=True)
        sf.write(str(service.root / name), tone(600.0, 0.2), 8000, subtype="PCM_16")
        assert await service.repo.add_file(call_id, name)
    assert await service.purge() == 1  # 90 days by default
    assert not (service.root / "test/old-call-1.wav").exists()
    assert (service.root / "test/new-call-1.wav").exists()
    old_record = await switch.database.cdr.get("old-call")
    assert old_record is not None and old_record.recording is None


def test_bad_recording_settings_stop_the_switch(tmp_path: Path) -> None:
    from softswitch.config import ConfigError
    from softswitch.features.recording import recording_settings_from

    for bad in ({"key": "x1"}, {"extensions": "1002"}, {"retention_days": -1}, {"typo": 1}):
        with pytest.raises(ConfigError):
            recording_settings_from({"recording": bad})


@pytest.mark.parametrize(("settings", "caller", "callee", "trunk", "recorded"), [
    ({"extensions": ["1002"]}, "1001", "1002", None, True),
    ({"extensions": ["1003"]}, "1001", "1002", None, False),
    ({"departments": ["ICU"]}, "1001", "1002", None, True),  # 1001 works in the ICU
    ({"departments": ["Radiology"]}, "1001", "1002", None, False),
    ({"trunks": ["pstn"]}, "1001", "0105551234", "pstn", True),
    ({}, "1001", "1002", "pstn", False),
])
async def test_policy_by_extension_department_and_trunk(
        settings: dict[str, list[str]], caller: str, callee: str, trunk: str | None,
        recorded: bool, tmp_path: Path) -> None:
    from softswitch.features.recording import RecordingService, recording_settings_from
    from softswitch.store import User
    from softswitch.switch.legs import Call

    departments = {"1001": "ICU", "1002": "Surgery"}

    async def users(extension: str) -> User | None:
        if extension not in departments:
            return None
        return User(extension=extension, realm="r", ha1_md5="", ha1_sha256="",
                    department=departments[extension])

    service = RecordingService(None, None, users, tmp_path,  # type: ignore[arg-type]
                               recording_settings_from({"recording": settings}))
    call = Call(id="c1", caller=caller, callee=callee, dialled=callee, route="extension",
                started_at=0.0, server=None, offer=None, trunk=trunk)  # type: ignore[arg-type]
    assert await service.policy_applies(call) is recorded
