"""The switch's own announcements on real calls (SIPp phones): a refused call hears its reason
as early media before the 403; a call at its maximum duration hears why on both sides."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import soundfile

from softswitch.app import Switch
from softswitch.store import Disposition, HangupSide
from softswitch.switch.b2bua import CallSettings
from softswitch.switch.dialplan import ClassOfService, DialPlan
from tests.calls.harness import (
    Sipp,
    caller,
    closed_record,
    passed,
    register,
    running_switch,
)

USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b"}


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with running_switch(tmp_path, USERS, CallSettings(no_answer_timeout=5.0)) as sw:
        yield sw


def _prompt_seconds(switch: Switch, name: str) -> float:
    runner = switch.flow_runner
    assert runner is not None
    return float(soundfile.info(runner.prompts.path(name, runner.language)).duration)


class _Rtp(asyncio.DatagramProtocol):
    """Collects what the switch sends to the caller's media address."""

    def __init__(self) -> None:
        self.packets: list[bytes] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append(data)


async def test_refused_call_hears_its_reason_as_early_media_then_403(
    switch: Switch, tmp_path: Path
) -> None:
    loop = asyncio.get_running_loop()
    transport, rtp = await loop.create_datagram_endpoint(
        _Rtp, local_addr=("127.0.0.1", 0), family=socket.AF_INET)
    try:
        port = transport.get_extra_info("sockname")[1]
        uac = caller("call_uac_refused_spoken.xml", switch.sip_port, "1001", USERS["1001"],
                     "00441234567", tmp_path)
        uac.args += ["-set", "rtp", str(port)]
        await passed(await uac.start())
    finally:
        transport.close()
    seconds = _prompt_seconds(switch, "cos_international")
    # 20 ms packets for (nearly) the whole prompt, PCMA as offered first, and not silence
    assert len(rtp.packets) >= 0.8 * seconds / 0.02
    payload_types = {packet[1] & 0x7F for packet in rtp.packets}
    assert payload_types == {8}
    assert len({packet[12:] for packet in rtp.packets}) > len(rtp.packets) // 2
    first_seq = struct.unpack("!H", rtp.packets[0][2:4])[0]
    assert struct.unpack("!H", rtp.packets[10][2:4])[0] == (first_seq + 10) & 0xFFFF
    record = await closed_record(switch, "00441234567")
    assert record.disposition is Disposition.FAILED
    assert record.cause == "403 international calls not allowed for internal"
    assert switch.media is not None and switch.b2bua is not None
    assert switch.b2bua.calls() == []


async def test_maximum_duration_is_announced_to_both_sides_then_both_get_bye(
    switch: Switch, tmp_path: Path
) -> None:
    assert switch.b2bua is not None and switch.media is not None
    b2bua, media = switch.b2bua, switch.media
    b2bua.plan = DialPlan(cos={"internal": ClassOfService("internal", local=False,
                                                          max_call_seconds=1)})
    callee = await Sipp("call_uas_answer.xml").start()  # neither SIPp sends RTP
    sent = {"a": 0, "b": 0}
    try:
        await register(switch, "1002", callee.port)
        uac = await caller("call_uac_wait_bye.xml", switch.sip_port, "1001", USERS["1001"],
                           "1002", tmp_path).start()
        deadline = loop_time() + 20
        while uac.proc is not None and uac.proc.returncode is None and loop_time() < deadline:
            for call in b2bua.calls():
                live = b2bua.find(call["call_id"])
                if live is not None and live.a is not None and live.b is not None:
                    sent["a"] = max(sent["a"], media.stats(live.a.media).packets_sent)
                    sent["b"] = max(sent["b"], media.stats(live.b.media).packets_sent)
            await asyncio.sleep(0.05)
        await passed(uac)
        await passed(callee)
    finally:
        callee.stop()
    seconds = _prompt_seconds(switch, "call_time_limit")
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.ANSWERED
    assert record.hangup_side is HangupSide.SWITCH and record.cause == "maximum call duration"
    assert record.answered_at is not None and record.ended_at is not None
    assert 1.0 + seconds * 0.8 <= record.ended_at - record.answered_at < 1.0 + seconds + 3
    # the announcement went to both phones (nothing else sends to them: no RTP to relay)
    assert sent["a"] >= 0.5 * seconds / 0.02 and sent["b"] >= 0.5 * seconds / 0.02


def loop_time() -> float:
    return asyncio.get_running_loop().time()
