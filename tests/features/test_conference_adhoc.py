"""The ad-hoc seam: a call's two bridged media legs move into a new room, where the room's
rules apply to them (list, mute, kick through the hang-up callback); a leg closed behind the
room's back (its call ended) drops out of the listing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from media import Leg, MediaEngine
from softswitch.features.conference import ConferenceError, ConferenceService
from softswitch.features.conference_config import ConferenceSettings


@pytest.fixture
async def engine() -> AsyncIterator[MediaEngine]:
    media = MediaEngine(host="127.0.0.1", port_range=None, run_clock=False)
    await media.start()
    try:
        yield media
    finally:
        await media.close()


async def test_merge_moves_a_bridged_call_into_a_new_room(
    engine: MediaEngine, tmp_path: Path
) -> None:
    service = ConferenceService(engine, ConferenceSettings(), tmp_path)
    a, b = await engine.open_leg(), await engine.open_leg()
    pair = engine.bridge(a, b)
    hung_up: list[tuple[Leg, str]] = []
    room = service.merge([(a, "1001"), (b, "1002")],
                         hangup=lambda leg, cause: hung_up.append((leg, cause)))
    assert room == "adhoc-1"
    assert pair.closed and a.bridge is b.bridge and a.bridge is not None
    assert a.bridge.always_mix  # a conference bridge: a third party joins without a switch
    [listed] = service.rooms()
    assert [(m["id"], m["caller"], m["role"]) for m in listed["members"]] == [
        (1, "1001", "participant"), (2, "1002", "participant")]
    assert service.mute(room, 2, True)["muted"] is True
    assert a.bridge.mixer.is_muted(b.id)
    service.kick(room, 2)
    assert hung_up == [(b, "kicked")] and b.bridge is None
    await engine.close_leg(a)  # the call ended: the B2BUA closed the leg
    assert service.rooms() == []
    with pytest.raises(ConferenceError, match="nobody"):
        service.room(room)
    await service.close()


async def test_a_second_merge_into_the_same_room_adds_to_it(
    engine: MediaEngine, tmp_path: Path
) -> None:
    service = ConferenceService(engine, ConferenceSettings(), tmp_path)
    a, b, c = [await engine.open_leg() for _ in range(3)]
    room = service.merge([(a, "1001"), (b, "1002")])
    assert service.merge([(c, "1003")], room=room) == room
    assert [m["caller"] for m in service.room(room)["members"]] == ["1001", "1002", "1003"]
    with pytest.raises(ConferenceError, match="cannot dial out"):
        await service.invite(room, "1004")  # no originate given
    await service.close()


async def test_a_room_set_to_record_records_each_session_into_the_data_directory(
    engine: MediaEngine, tmp_path: Path
) -> None:
    import asyncio

    import soundfile as sf

    from softswitch.features.conference_config import RoomSettings

    settings = ConferenceSettings(rooms={"9010": RoomSettings(record=True)})
    service = ConferenceService(engine, settings, tmp_path / "recordings",
                                clock=lambda: 1_764_000_000.0)
    a, b = await engine.open_leg(), await engine.open_leg()
    room = service.merge([(a, "1001"), (b, "1002")], room="9010")
    for _ in range(100):  # the recording starts in the background
        if service.room(room)["recording"]:
            break
        await asyncio.sleep(0.01)
    path = Path(service.room(room)["recording"])
    assert path == tmp_path / "recordings" / "conference-9010-20251124-160000.wav"
    for _ in range(25):
        engine.tick()  # half a second of the room's (silent) mix
    stopped = await service.stop_recording(room)
    assert stopped == path and sf.info(str(path)).frames >= 8000 * 0.4
    await service.close()
