"""Transfer by keypad on a bridged call (phones without REFER), over real SIP and RTP.

1001 (a SIPp caller) talks to 1002; its keypad is played as RFC 4733 events into the switch.
``##1003#`` transfers 1002 to 1003 blind and hangs up on 1001; ``*21003#`` consults 1003 first
and completes the transfer when 1001 hangs up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.features import KeyPress
from tests.calls.harness import (
    Sipp,
    caller,
    passed,
    register,
    running_switch,
)
from tests.features.harness import answered_call, key_phone, scenario, talking_caller
from tests.features.test_transfer_refer import closed_records

USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b", "1003": "target-pass-c"}


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with running_switch(tmp_path, USERS) as sw:
        yield sw


async def test_hash_hash_number_transfers_blind(switch: Switch, tmp_path: Path) -> None:
    """... and the keys keep working for the joined pair (the transferee presses *9)."""
    assert switch.incall_keys is not None
    pressed: asyncio.Queue[KeyPress] = asyncio.Queue()

    async def on_key(press: KeyPress) -> None:
        await pressed.put(press)

    switch.incall_keys.register("*9", on_key)
    transferee = await Sipp("call_uas_answer.xml").start()
    target = await Sipp(scenario("uas_ring_answer_bye.xml"), "-d", "4000").start()
    uac = caller("call_uac_wait_bye.xml", switch.sip_port, "1001", USERS["1001"], "1002",
                 tmp_path)
    try:
        await register(switch, "1002", transferee.port)
        await register(switch, "1003", target.port)
        await uac.start()
        call = await answered_call(switch)
        assert call.a is not None
        async with key_phone(call.a) as (engine, phone):
            await engine.send_digits(phone, "##1003#")
            await passed(uac)  # the switch hangs up on the transferor
        assert call.b is not None
        await answered_call(switch, caller="1002")  # 1003 answered the switch's call
        async with key_phone(call.b) as (engine, phone):
            await engine.send_digits(phone, "*9")
            press = await asyncio.wait_for(pressed.get(), 5)
            assert press.leg is call.b and press.sequence == "*9"
        await passed(target)
        await passed(transferee)
    finally:
        for peer in (uac, target, transferee):
            peer.stop()
    records = {r.callee: r for r in await closed_records(switch, 2)}
    assert records["1003"].caller == "1002"
    assert records["1003"].route == "transfer from 1001"


async def test_star_two_consults_then_completes_when_the_transferor_hangs_up(
        switch: Switch, tmp_path: Path) -> None:
    transferee = await Sipp("call_uas_answer.xml").start()
    target = await Sipp(scenario("uas_ring_answer_bye.xml"), "-d", "6000").start()
    uac = talking_caller(switch, "1001", USERS["1001"], "1002", tmp_path, 5000)
    try:
        await register(switch, "1002", transferee.port)
        await register(switch, "1003", target.port)
        await uac.start()
        call = await answered_call(switch)
        assert call.a is not None and switch.b2bua is not None
        async with key_phone(call.a) as (engine, phone):
            await engine.send_digits(phone, "*21003#")
            consultation = await answered_call(switch, caller="1001", exclude=(call.id,))
            assert consultation.callee == "1003" and consultation.route == "consultation from 1001"
            await passed(uac)  # 1001 hangs up: 1002 and 1003 are joined
        assert call.state.value == "answered"  # 1002 is still there, now with 1003
        await passed(target)  # 1003 hangs up ...
        await passed(transferee)  # ... and that ends 1002's call
    finally:
        for peer in (uac, target, transferee):
            peer.stop()
    assert switch.b2bua.calls() == []
