"""Meet-me conferences over real SIP (SIPp callers) with real RTP: the test's own media engine
plays each phone's side of the media, sending RFC 4733 keys and audio to the switch; the room
is watched and driven through the HTTP API (httpx)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from media import Leg, MediaEngine, MediaFormat
from media.tones import ToneSpec
from softswitch.app import Switch
from softswitch.cli import app as cli_app
from softswitch.config import Config
from softswitch.features.conference import MUSIC
from softswitch.store import HangupSide
from tests.calls.harness import (
    Sipp,
    add_users,
    caller,
    calls_config,
    passed,
    register,
    started_switch,
)

LONG = ("-timeout", "120s")  # a member stays through a whole test (the harness allows 20 s)
CALLS_SCENARIOS = Path(__file__).parents[1] / "calls" / "scenarios"
SCENARIO = str(Path(__file__).parent / "scenarios" / "conf_uac_wait_bye.xml")
USERS = {"1001": "ward-three-a", "1002": "ward-five-b", "1003": "clinic-c-x"}
ROOMS = {"9002": {"pin": "1234", "moderator_pin": "9999", "end_when_moderator_leaves": True},
         "9005": {"listener_pin": "5678"}}


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    base = calls_config(tmp_path)
    config = Config(sip=base.sip, http=base.http, security=base.security,
                    data_dir=base.data_dir, features={"conference": {"rooms": ROOMS}})
    async with started_switch(config, USERS) as sw:
        yield sw


@pytest.fixture
async def phones() -> AsyncIterator[MediaEngine]:
    """The phones' side of the media: one leg per phone on a loopback port."""
    engine = MediaEngine(host="127.0.0.1", port_range=None)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.close()


@pytest.fixture
async def api(switch: Switch) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{switch.http_port}/api",
        headers={"Authorization": f"Bearer {switch.admin_token}"}, timeout=10,
    ) as client:
        yield client


class Member:
    """One SIPp caller in a room with its media leg on the test's engine."""

    def __init__(self, sipp: Sipp, leg: Leg, extension: str) -> None:
        self.sipp, self.leg, self.extension = sipp, leg, extension


async def until(predicate: Any, timeout: float = 30.0) -> Any:
    """Poll an async predicate (bounded); returns its first truthy value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def dial(switch: Switch, phones: MediaEngine, tmp: Path, extension: str,
               room: str) -> Member:
    """A SIPp call to ``room``; once answered, the phone's leg sends to the switch's port."""
    leg = await phones.open_leg(MediaFormat("PCMA", 8, 101))
    sipp = caller(SCENARIO, switch.sip_port, extension, USERS[extension], room, tmp)
    sipp.args += ["-key", "rtp_port", str(leg.stream.local[1]), *LONG]
    await sipp.start()
    assert switch.b2bua is not None
    b2bua = switch.b2bua

    async def answered() -> Any:
        for summary in b2bua.calls():
            if summary["caller"] == extension and summary["state"] == "answered":
                return b2bua.find(summary["call_id"])
        return None

    call = await until(answered)
    assert call.a is not None
    phones.configure(leg, remote=call.a.media.stream.local)
    return Member(sipp, leg, extension)


async def members(api: httpx.AsyncClient, room: str) -> list[dict[str, Any]]:
    response = await api.get(f"/conferences/{room}")
    if response.status_code == 404:
        return []
    response.raise_for_status()
    return list(response.json()["members"])


async def member_of(api: httpx.AsyncClient, room: str, extension: str) -> dict[str, Any]:
    async def found() -> Any:
        return next((m for m in await members(api, room) if m["caller"] == extension), None)

    return dict(await until(found))


async def enter_pin(phones: MediaEngine, member: Member, api: httpx.AsyncClient, room: str,
                    pin: str) -> dict[str, Any]:
    """Key a PIN and wait to be listed; keyed again once if the room asks again (a digit
    lost on a loaded machine makes a wrong PIN, and the room asks again, as for a person)."""
    await phones.send_digits(member.leg, pin + "#")
    try:
        return await asyncio.wait_for(member_of(api, room, member.extension), 15)
    except (TimeoutError, AssertionError):
        await phones.send_digits(member.leg, pin + "#")
        return await member_of(api, room, member.extension)


async def test_open_room_keys_api_lock_and_kick(
    switch: Switch, phones: MediaEngine, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    a = await dial(switch, phones, tmp_path, "1001", "9001")
    first = await member_of(api, "9001", "1001")
    assert (first["role"], first["muted"]) == ("participant", False)
    b = await dial(switch, phones, tmp_path, "1002", "9001")
    second = await member_of(api, "9001", "1002")
    listing = (await api.get("/conferences")).json()
    assert [len(room["members"]) for room in listing if room["room"] == "9001"] == [2]

    # the mute key (1) from a's phone, as RFC 4733 events over RTP
    await phones.send_digits(a.leg, "1")

    async def a_muted() -> bool:
        return bool((await member_of(api, "9001", "1001"))["muted"])

    await until(a_muted)
    # mute and unmute b through the API
    url = f"/conferences/9001/members/{second['id']}/mute"
    assert (await api.put(url, json={"muted": True})).json()["muted"] is True
    assert (await api.put(url, json={"muted": False})).json()["muted"] is False
    # bad requests get a reason, not a traceback
    missing = await api.put("/conferences/9001/members/99/mute", json={"muted": True})
    assert missing.status_code == 404 and "no member 99" in missing.json()["detail"]
    assert (await api.get("/conferences/9055")).status_code == 404
    assert (await api.put(url, json={"muted": "perhaps"})).status_code == 422

    # a locked room turns a third caller away (prompt, then the switch hangs up)
    assert (await api.put("/conferences/9001/lock", json={"locked": True})).json()["locked"]
    c = await dial(switch, phones, tmp_path, "1003", "9001")
    await passed(c.sipp)
    assert {m["caller"] for m in await members(api, "9001")} == {"1001", "1002"}
    await api.put("/conferences/9001/lock", json={"locked": False})

    # b leaves with the leave key (#): the switch hangs up
    await phones.send_digits(b.leg, "#")
    await passed(b.sipp)

    async def one_left() -> bool:
        return [m["caller"] for m in await members(api, "9001")] == ["1001"]

    await until(one_left)
    # a is kicked through the API: removed, told so, hung up; the empty room closes
    assert (await api.delete(f"/conferences/9001/members/{first['id']}")).status_code == 204
    await passed(a.sipp)

    async def closed() -> bool:
        return (await api.get("/conferences/9001")).status_code == 404

    await until(closed)
    assert switch.database is not None
    records = [r for r in await switch.database.cdr.search() if r.dialled == "9001"]
    assert len(records) == 3 and all(r.hangup_side is HangupSide.SWITCH for r in records)


async def test_pins_pick_roles_and_the_room_ends_with_its_moderator(
    switch: Switch, phones: MediaEngine, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    boss = await dial(switch, phones, tmp_path, "1001", "9002")
    await phones.send_digits(boss.leg, "9999#")
    moderator = await member_of(api, "9002", "1001")
    assert moderator["role"] == "moderator"
    guest = await dial(switch, phones, tmp_path, "1002", "9002")
    await phones.send_digits(guest.leg, "1234#")
    assert (await member_of(api, "9002", "1002"))["role"] == "participant"
    stranger = await dial(switch, phones, tmp_path, "1003", "9002")
    await phones.send_digits(stranger.leg, "1111#")
    await asyncio.sleep(0.5)
    await phones.send_digits(stranger.leg, "2222#")
    await asyncio.sleep(0.5)
    await phones.send_digits(stranger.leg, "3333#")
    await passed(stranger.sipp)  # three wrong PINs: told so and hung up, never a member
    assert {m["caller"] for m in await members(api, "9002")} == {"1001", "1002"}
    # the moderator locks with its key (2), then leaves (#): the room ends for the guest
    await phones.send_digits(boss.leg, "2")

    async def locked() -> bool:
        return bool((await api.get("/conferences/9002")).json()["locked"])

    await until(locked)
    await phones.send_digits(boss.leg, "#")
    await passed(boss.sipp)
    await passed(guest.sipp)


async def test_room_recording_through_the_api(
    switch: Switch, phones: MediaEngine, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    a = await dial(switch, phones, tmp_path, "1001", "9003")
    await member_of(api, "9003", "1001")
    started = await api.post("/conferences/9003/recording")
    assert started.status_code == 201
    path = Path(started.json()["recording"])
    assert path.parent == switch.config.data_dir / "recordings"
    assert (await api.post("/conferences/9003/recording")).status_code == 409
    tone = ToneSpec("test", (700.0,), (), -12.0)
    playing = asyncio.ensure_future(phones.play(a.leg, [tone], loop=True, barge_in=False))
    await asyncio.sleep(1.5)
    playing.cancel()
    stopped = await api.delete("/conferences/9003/recording")
    assert stopped.status_code == 200 and Path(stopped.json()["recording"]) == path
    assert (await api.delete("/conferences/9003/recording")).status_code == 409
    samples, rate = sf.read(path, dtype="int16")
    assert rate == 8000 and len(samples) >= 8000  # at least a second of the room
    assert abs(samples).max() > 1000  # the phone's tone is in it
    await api.delete("/conferences/9003/members/1")
    await passed(a.sipp)


def cli(switch: Switch, *args: str) -> Any:
    """`softswitch conferences ...` against the running switch (in a thread: it blocks)."""
    runner = CliRunner()
    return runner.invoke(cli_app, ["conferences", *args, "--url",
                                   f"http://127.0.0.1:{switch.http_port}",
                                   "--data", str(switch.config.data_dir)])


async def test_cli_invites_an_extension_and_drives_the_room(
    switch: Switch, phones: MediaEngine, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    a = await dial(switch, phones, tmp_path, "1001", "9004")
    await member_of(api, "9004", "1001")
    callee = await Sipp(str(CALLS_SCENARIOS / "call_uas_answer.xml"), *LONG).start()
    try:
        await register(switch, "1002", callee.port)
        invited = await asyncio.to_thread(cli, switch, "invite", "9004", "1002")
        assert invited.exit_code == 0, invited.output
        assert "1002 joined as member 2 (participant)" in invited.output
        listing = await asyncio.to_thread(cli, switch, "list")
        assert listing.exit_code == 0
        lines = [line.split() for line in listing.output.splitlines()]
        assert [line[:4] for line in lines[1:]] == [
            ["9004", "1", "1001", "participant"], ["9004", "2", "1002", "participant"]]
        muted = await asyncio.to_thread(cli, switch, "mute", "9004", "2")
        assert muted.exit_code == 0 and (await member_of(api, "9004", "1002"))["muted"]
        assert (await asyncio.to_thread(cli, switch, "lock", "9004")).exit_code == 0
        assert (await api.get("/conferences/9004")).json()["locked"] is True
        # mistakes get the switch's reason and exit 1
        wrong = await asyncio.to_thread(cli, switch, "kick", "9004", "7")
        assert wrong.exit_code == 1 and "no member 7" in wrong.output
        nobody = await asyncio.to_thread(cli, switch, "invite", "9004", "1003", "--timeout", "3")
        assert nobody.exit_code == 1 and "480" in nobody.output  # 1003 is not registered
        bad = await asyncio.to_thread(cli, switch, "invite", "9004", "12ab")
        assert bad.exit_code == 1 and "pattern" in bad.output
        kicked = await asyncio.to_thread(cli, switch, "kick", "9004", "2")
        assert kicked.exit_code == 0
        await passed(callee)  # the invited phone got its BYE
    finally:
        callee.stop()
    await api.delete("/conferences/9004/members/1")
    await passed(a.sipp)
    empty = await asyncio.to_thread(cli, switch, "list")
    assert empty.exit_code == 0 and "no conference in progress" in empty.output


def heard(path: Path) -> Any:
    """What a phone leg received (channel 0 of the test engine's stereo recording)."""
    samples, rate = sf.read(path, dtype="float64")
    assert rate == 8000
    return samples[:, 0]


def windows(samples: Any, seconds: float = 0.5) -> list[Any]:
    """Half-overlapping windows of received audio (a loaded machine shifts events a bit)."""
    size = int(8000 * seconds)
    return [samples[i:i + size] for i in range(0, max(1, len(samples) - size), size // 2)]


def share(samples: Any, freqs: tuple[float, ...], width: float = 25.0) -> float:
    """Share of the energy within ``width`` Hz of any of ``freqs``."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    bins = np.fft.rfftfreq(len(samples), 1 / 8000)
    near = np.zeros(len(bins), bool)
    for f in freqs:
        near |= np.abs(bins - f) <= width
    total = float(spectrum.sum())
    return float(spectrum[near].sum()) / total if total else 0.0


async def test_music_while_alone_then_the_others_and_a_listener_is_not_heard(
    switch: Switch, phones: MediaEngine, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    a = await dial(switch, phones, tmp_path, "1001", "9005")
    await phones.send_digits(a.leg, "#")  # an empty PIN: a participant
    await member_of(api, "9005", "1001")
    await asyncio.sleep(2.0)  # "you are the only participant", then music
    alone = await phones.record(a.leg, tmp_path / "alone.wav")
    await asyncio.sleep(4.0)
    await phones.stop_recording(alone)
    notes = tuple(spec.freqs[0] for spec in MUSIC[:-1])
    assert max(share(w, notes) for w in windows(heard(tmp_path / "alone.wav"))) > 0.5
    # a listener joins (its PIN) and plays a tone nobody may hear
    b = await dial(switch, phones, tmp_path, "1002", "9005")
    assert (await enter_pin(phones, b, api, "9005", "5678"))["role"] == "listener"
    quiet = asyncio.ensure_future(phones.play(
        b.leg, [ToneSpec("listener", (1200.0,), (), -12.0)], loop=True, barge_in=False))
    # a participant joins with its own tone: a hears it, the listener's never
    c = await dial(switch, phones, tmp_path, "1003", "9005")
    await phones.send_digits(c.leg, "#")
    await member_of(api, "9005", "1003")
    loud = asyncio.ensure_future(phones.play(
        c.leg, [ToneSpec("talker", (700.0,), (), -12.0)], loop=True, barge_in=False))
    await asyncio.sleep(1.0)
    together = await phones.record(a.leg, tmp_path / "together.wav")
    await asyncio.sleep(2.0)
    await phones.stop_recording(together)
    quiet.cancel()
    loud.cancel()
    parts = windows(heard(tmp_path / "together.wav"))
    assert max(share(w, (700.0,)) for w in parts) > 0.5
    assert max(share(w, (1200.0,)) for w in parts) < 0.001
    assert float(np.median([share(w, notes) for w in parts])) < 0.05  # the music stopped
    for member in (a, b, c):
        await api.delete(f"/conferences/9005/members/"
                         f"{(await member_of(api, '9005', member.extension))['id']}")
        await passed(member.sipp)


async def test_star3_turns_a_call_into_an_adhoc_conference(
    switch: Switch, phones: MediaEngine, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    """1001 calls 1002, keys *3 1003 #: 1003 is rung and all three are in one room; ending
    the room hangs everyone up."""
    callees = [await Sipp(str(CALLS_SCENARIOS / "call_uas_answer.xml"), *LONG).start()
               for _ in range(2)]
    try:
        await register(switch, "1002", callees[0].port)
        await register(switch, "1003", callees[1].port)
        a = await dial(switch, phones, tmp_path, "1001", "1002")
        await asyncio.sleep(0.5)  # the in-call keys watch the call once it is bridged
        await phones.send_digits(a.leg, "*31003#")

        async def three() -> Any:
            rooms = (await api.get("/conferences")).json()
            return rooms if rooms and len(rooms[0]["members"]) == 3 else None

        [room] = await until(three)
        assert room["room"] == "adhoc-1"
        assert [m["caller"] for m in room["members"]] == ["1001", "1002", "1003"]
        ended = await api.delete("/conferences/adhoc-1")
        assert ended.json() == {"room": "adhoc-1", "ended": 3}
        await passed(a.sipp)
        for callee in callees:
            await passed(callee)
    finally:
        for callee in callees:
            callee.stop()
    assert (await api.get("/conferences")).json() == []
    assert (await api.delete("/conferences/adhoc-1")).status_code == 404


async def test_an_invited_member_uses_the_in_call_keys(
    switch: Switch, phones: MediaEngine, api: httpx.AsyncClient
) -> None:
    """No flow runs on an invited phone's leg: its keys are read from the leg itself."""
    leg = await phones.open_leg(MediaFormat("PCMA", 8, 101))
    phone = await Sipp(str(Path(__file__).parent / "scenarios" / "conf_uas_answer.xml"),
                       "-key", "rtp_port", str(leg.stream.local[1]), *LONG).start()
    try:
        await register(switch, "1003", phone.port)
        invited = await api.post("/conferences/9006/invite", json={"number": "1003"})
        assert invited.status_code == 201, invited.text
        assert invited.json()["caller"] == "1003"
        assert switch.b2bua is not None
        [summary] = [c for c in switch.b2bua.calls() if c["callee"] == "1003"]
        call = switch.b2bua.find(summary["call_id"])
        assert call is not None and call.b is not None
        phones.configure(leg, remote=call.b.media.stream.local)
        await phones.send_digits(leg, "1")

        async def muted() -> bool:
            return bool((await member_of(api, "9006", "1003"))["muted"])

        await until(muted)
        await phones.send_digits(leg, "#")  # leave: the switch hangs up
        await passed(phone)
    finally:
        phone.stop()

    async def closed() -> bool:
        return (await api.get("/conferences/9006")).status_code == 404

    await until(closed)


async def test_cli_invites_by_role_and_unmutes_unlocks_records_and_ends_a_room(
    switch: Switch, phones: MediaEngine, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    a = await dial(switch, phones, tmp_path, "1001", "9007")
    await member_of(api, "9007", "1001")
    answer = str(CALLS_SCENARIOS / "call_uas_answer.xml")
    listener = await Sipp(answer, *LONG).start()
    moderator = await Sipp(answer, *LONG).start()
    try:
        await register(switch, "1002", listener.port)
        await register(switch, "1003", moderator.port)
        heard_only = await asyncio.to_thread(cli, switch, "invite", "9007", "1002", "--listener")
        assert heard_only.exit_code == 0, heard_only.output
        assert "1002 joined as member 2 (listener)" in heard_only.output
        chair = await asyncio.to_thread(cli, switch, "invite", "9007", "1003", "--moderator")
        assert chair.exit_code == 0, chair.output
        assert "1003 joined as member 3 (moderator)" in chair.output
        roles = {m["caller"]: m["role"] for m in await members(api, "9007")}
        assert roles == {"1001": "participant", "1002": "listener", "1003": "moderator"}

        assert (await asyncio.to_thread(cli, switch, "mute", "9007", "1")).exit_code == 0
        assert (await member_of(api, "9007", "1001"))["muted"] is True
        unmuted = await asyncio.to_thread(cli, switch, "unmute", "9007", "1")
        assert unmuted.exit_code == 0 and "member 1 unmuted" in unmuted.output
        assert (await member_of(api, "9007", "1001"))["muted"] is False

        assert (await asyncio.to_thread(cli, switch, "lock", "9007")).exit_code == 0
        assert (await api.get("/conferences/9007")).json()["locked"] is True
        unlocked = await asyncio.to_thread(cli, switch, "unlock", "9007")
        assert unlocked.exit_code == 0 and "room 9007 unlocked" in unlocked.output
        assert (await api.get("/conferences/9007")).json()["locked"] is False

        recording = await asyncio.to_thread(cli, switch, "record", "9007")
        assert recording.exit_code == 0, recording.output
        path = Path(recording.output.strip().rsplit("recording into ", 1)[1])
        assert path.parent == switch.config.data_dir / "recordings"
        assert path.name.startswith("conference-9007-")
        tone = ToneSpec("test", (700.0,), (), -12.0)
        playing = asyncio.ensure_future(phones.play(a.leg, [tone], loop=True, barge_in=False))
        await asyncio.sleep(1.5)
        playing.cancel()
        saved = await asyncio.to_thread(cli, switch, "stop-recording", "9007")
        assert saved.exit_code == 0 and f"recording saved as {path}" in saved.output
        samples, rate = sf.read(path, dtype="int16")
        assert rate == 8000 and len(samples) >= 8000 and abs(samples).max() > 1000
        again = await asyncio.to_thread(cli, switch, "stop-recording", "9007")
        assert again.exit_code == 1 and "error:" in again.output

        ended = await asyncio.to_thread(cli, switch, "end", "9007")
        assert ended.exit_code == 0 and "room 9007 ended (3 member(s))" in ended.output
        await passed(listener)  # every member got its BYE
        await passed(moderator)
    finally:
        listener.stop()
        moderator.stop()
    await passed(a.sipp)
    assert (await api.get("/conferences/9007")).status_code == 404
    gone = await asyncio.to_thread(cli, switch, "end", "9007")
    assert gone.exit_code == 1 and "error:" in gone.output


def best_match(received: Any, prompt: Any) -> float:
    """The highest normalized correlation of a quarter-second piece of ``prompt`` anywhere in
    ``received``: about 1.0 where the prompt itself arrived (G.711 keeps its shape; short
    pieces, so a late packet does not break the alignment), far lower for tones."""
    size = 2000
    best = 0.0
    energy = np.sqrt(np.convolve(received ** 2, np.ones(size), mode="valid"))
    for start in range(4000, len(prompt) - size, 4000):  # every half second from 0.5 s
        piece = prompt[start:start + size]
        if len(received) < size or np.linalg.norm(piece) == 0:
            continue
        corr = np.correlate(received, piece, mode="valid")
        best = max(best, float(np.max(np.abs(corr) / (energy * np.linalg.norm(piece) + 1e-9))))
    return best


async def joining_alone_hears(switch: Switch, phones: MediaEngine, api: httpx.AsyncClient,
                              tmp: Path, room: str) -> Any:
    """What a lone member hears in its first seconds in ``room``; then it is removed."""
    tmp.mkdir(parents=True, exist_ok=True)
    a = await dial(switch, phones, tmp, "1001", room)
    recording = await phones.record(a.leg, tmp / f"join-{room}.wav")
    await asyncio.sleep(4.0)
    await phones.stop_recording(recording)
    member = await member_of(api, room, "1001")
    await api.delete(f"/conferences/{room}/members/{member['id']}")
    await passed(a.sipp)
    return heard(tmp / f"join-{room}.wav")


async def test_announce_count_off_skips_the_count_prompt(
    switch: Switch, phones: MediaEngine, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    """`[conference] announce_count`: on (the default) a lone member hears "you are the only
    one" (the conf_alone prompt, found in the received audio); off, only the join tone and
    the music."""
    runner = switch.flow_runner
    assert runner is not None
    prompt, rate = sf.read(runner.prompts.path("conf_alone", runner.language), dtype="float64")
    assert rate == 8000 and len(prompt) > 2 * 8000
    told = await joining_alone_hears(switch, phones, api, tmp_path / "on", "9008")
    assert best_match(told, prompt) > 0.8
    base = calls_config(tmp_path / "off")
    quiet = Switch(Config(sip=base.sip, http=base.http, security=base.security,
                          data_dir=base.data_dir,
                          features={"conference": {"announce_count": False}}))
    await quiet.start()
    try:
        await add_users(quiet, USERS)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{quiet.http_port}/api",
            headers={"Authorization": f"Bearer {quiet.admin_token}"}, timeout=10,
        ) as quiet_api:
            untold = await joining_alone_hears(quiet, phones, quiet_api, tmp_path / "off",
                                               "9008")
    finally:
        await quiet.stop()
    assert np.abs(untold).max() > 0.01  # the join tone and the music did arrive
    assert best_match(untold, prompt) < 0.5
