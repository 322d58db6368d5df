"""A call to a number of the dial plan bound to a call flow: the flow answers over real SIP/RTP,
runs, and hangs up; a flow that is not registered gets 404; a caller's hang-up cancels it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.flows import Call
from softswitch.store import Disposition, HangupSide
from tests.calls.harness import add_users, calls_config, closed_record, place_call

USERS = {"1001": "caller-pass-a"}


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    sw = Switch(calls_config(tmp_path))
    await sw.start()
    await add_users(sw, USERS)
    try:
        yield sw
    finally:
        await sw.stop()


async def test_flow_answers_runs_and_hangs_up(switch: Switch, tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def short_flow(call: Call) -> None:
        await call.answer()
        seen["caller"], seen["dialled"] = call.caller, call.dialled
        seen["digits"] = await call.collect(1, timeout=0.3, inter_digit_timeout=0.3)
        await call.hangup()

    assert switch.flow_runner is not None
    switch.flow_runner.flows = {"appointments": short_flow}  # 8000 in the default dial plan
    await place_call(switch, tmp_path, "call_uac_wait_bye.xml", ("1001", USERS["1001"]), "8000")
    assert seen == {"caller": "1001", "dialled": "8000", "digits": ""}
    record = await closed_record(switch, "8000")
    assert record.disposition is Disposition.ANSWERED
    assert record.hangup_side is HangupSide.SWITCH
    assert switch.b2bua is not None and switch.b2bua.calls() == []


async def test_caller_hanging_up_cancels_the_flow(switch: Switch, tmp_path: Path) -> None:
    cleaned = asyncio.Event()

    async def endless_flow(call: Call) -> None:
        await call.answer()
        try:
            while True:
                await call.collect(4, timeout=5)
        finally:
            cleaned.set()

    assert switch.flow_runner is not None
    switch.flow_runner.flows = {"appointments": endless_flow}
    # the flow answers, then the caller sends BYE
    await place_call(switch, tmp_path, "call_uac_auth.xml", ("1001", USERS["1001"]), "8000")
    await asyncio.wait_for(cleaned.wait(), 5)
    record = await closed_record(switch, "8000")
    assert record.hangup_side is HangupSide.CALLER


async def test_number_bound_to_a_missing_flow_gets_404(switch: Switch, tmp_path: Path) -> None:
    assert switch.flow_runner is not None
    switch.flow_runner.flows = {}
    await place_call(switch, tmp_path, "call_uac_404.xml", ("1001", USERS["1001"]), "8000")
