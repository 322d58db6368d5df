"""In-call feature keys over real SIP and RTP: a SIPp caller and callee in a bridged call, the
caller's keypad played as RFC 4733 events into the switch. A registered sequence runs its
handler and is not passed on; other digits still reach the other phone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.features import KeyPress
from tests.calls.harness import Sipp, passed, register, running_switch
from tests.features.harness import answered_call, key_phone, talking_caller

USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b"}


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with running_switch(tmp_path, USERS) as sw:
        yield sw


async def sent_settles(read: object, timeout: float = 5.0) -> int:
    """The packet count once it has stopped moving for 0.3 s (bounded)."""
    deadline = time.monotonic() + timeout
    last = read()  # type: ignore[operator]
    while time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        now = read()  # type: ignore[operator]
        if now == last:
            return int(now)
        last = now
    raise AssertionError("packets kept flowing")


async def test_feature_key_runs_its_handler_and_is_not_passed_on(
        switch: Switch, tmp_path: Path) -> None:
    assert switch.incall_keys is not None and switch.media is not None
    pressed: asyncio.Queue[KeyPress] = asyncio.Queue()

    async def on_key(press: KeyPress) -> None:
        await pressed.put(press)

    switch.incall_keys.register("*9", on_key)
    switch.incall_keys.register("*5", on_key, with_number=True)
    callee = await Sipp("call_uas_answer.xml").start()
    uac = await talking_caller(switch, "1001", USERS["1001"], "1002", tmp_path, 10000).start()
    try:
        await register(switch, "1002", callee.port)
        call = await answered_call(switch)
        assert call.a is not None and call.b is not None
        media = switch.media
        b_stats = call.b.media
        async with key_phone(call.a) as (engine, phone):
            await engine.send_digits(phone, "5")  # not a feature: the callee gets it
            deadline = time.monotonic() + 5
            while media.stats(b_stats).packets_sent == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            forwarded = await sent_settles(lambda: media.stats(b_stats).packets_sent)
            assert forwarded > 0
            await engine.send_digits(phone, "*9")
            press = await asyncio.wait_for(pressed.get(), 5)
            assert (press.sequence, press.argument, press.leg.side) == ("*9", "", "a")
            assert press.call is call
            await engine.send_digits(phone, "*51003#")
            press = await asyncio.wait_for(pressed.get(), 5)
            assert (press.sequence, press.argument) == ("*5", "1003")
            assert await sent_settles(lambda: media.stats(b_stats).packets_sent) == forwarded
        await passed(uac)
        await passed(callee)
    finally:
        uac.stop()
        callee.stop()
