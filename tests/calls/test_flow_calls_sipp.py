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
from tests.calls.harness import closed_record, place_call, running_switch

USERS = {"1001": "caller-pass-a"}


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with running_switch(tmp_path, USERS) as sw:
        yield sw


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


async def test_feature_route_handlers_take_over_calls(switch: Switch, tmp_path: Path) -> None:
    """`B2bua.serve` hands a route type to a feature, which may start a flow with variables;
    `serve_feature` does the same for a `*` code, which may refuse with `B2bua.refuse`."""
    from softswitch.switch.dialplan import Conference, Route
    from softswitch.switch.legs import Call as SwitchCall

    b2bua, runner = switch.b2bua, switch.flow_runner
    assert b2bua is not None and runner is not None
    seen: dict[str, object] = {}

    async def room_flow(call: Call) -> None:
        await call.answer()
        seen["room"] = call.variables.get("room")
        await call.hangup()

    async def serve_room(call: SwitchCall, route: Route) -> None:
        assert isinstance(route, Conference)
        await b2bua.start_flow(call, "room", {"room": route.number})

    async def refuse_pickup(call: SwitchCall, route: Route) -> None:
        await b2bua.refuse(call, 404, "Nothing To Pick Up", "no ringing call")

    runner.flows = {"room": room_flow}
    b2bua.serve(Conference, serve_room)
    b2bua.serve_feature("pickup", refuse_pickup)
    await place_call(switch, tmp_path, "call_uac_wait_bye.xml", ("1001", USERS["1001"]), "9001")
    assert seen == {"room": "9001"}
    await place_call(switch, tmp_path, "call_uac_404.xml", ("1001", USERS["1001"]), "*8")
    record = await closed_record(switch, "*8")
    assert record.cause == "404 no ringing call"
