"""EngineMediaPort: a flow over a real MediaEngine leg (loopback, manual clock)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from media import DtmfDigit, MediaEngine
from softswitch.flows import Call, EngineMediaPort, FlowRunner, LoopClock


@pytest.fixture
async def engine() -> AsyncIterator[MediaEngine]:
    engine = MediaEngine(port_range=None, run_clock=False)
    await engine.start()
    yield engine
    await engine.close()


def press(engine: MediaEngine, leg_id: str, keys: str) -> None:
    for key in keys:
        engine.inject_digit(engine.leg(leg_id), DtmfDigit(key, 0.0, 100, "info"))


async def test_flow_over_engine_leg_barges_in_and_hangs_up(engine: MediaEngine) -> None:
    leg = await engine.open_leg(leg_id="flow-a")
    answered: list[bool] = []
    hung_up: list[str] = []

    async def answer() -> None:
        answered.append(True)

    async def flow(call: Call) -> None:
        await call.answer()
        call.variables["completed"] = await call.play(["welcome", "please_wait"])
        call.variables["typed"] = await call.collect(2, timeout=5)

    port = EngineMediaPort(engine, leg, answer=answer, hangup=hung_up.append)
    session = FlowRunner({"f": flow}).start("f", port, call_id="c1", caller="1001",
                                            dialled="8000")
    playing = asyncio.Event()
    session.call.on_wait = lambda: playing.set() if session.call.waiting.kind == "play" else None
    await asyncio.wait_for(playing.wait(), 2)
    press(engine, "flow-a", "42")
    outcome = await asyncio.wait_for(session.wait(), 2)
    assert outcome.ended_by == "flow"
    assert answered == [True]
    assert session.call.variables == {"completed": False, "typed": "42"}
    assert hung_up == ["flow ended"]
    assert leg.player is None


async def test_caller_hangup_cancels_a_flow_waiting_on_the_engine(engine: MediaEngine) -> None:
    leg = await engine.open_leg()
    cleaned: list[bool] = []

    async def answer() -> None:
        pass

    async def flow(call: Call) -> None:
        await call.answer()
        try:
            await call.collect(4, timeout=60)
        finally:
            cleaned.append(True)

    port = EngineMediaPort(engine, leg, answer=answer, hangup=lambda cause: None)
    session = FlowRunner({"f": flow}).start("f", port, call_id="c2", caller="1001",
                                            dialled="8000")
    waiting = asyncio.Event()
    session.call.on_wait = lambda: waiting.set() if session.call.waiting.kind == "digit" else None
    await asyncio.wait_for(waiting.wait(), 2)
    session.caller_hung_up()
    outcome = await asyncio.wait_for(session.wait(), 2)
    assert outcome.ended_by == "caller" and cleaned == [True]


async def test_loop_clock_timeouts_fire_on_the_real_loop() -> None:
    clock = LoopClock()
    fired = asyncio.Event()
    clock.call_at(clock.time() + 0.01, fired.set)
    await asyncio.wait_for(fired.wait(), 1)


async def test_switch_reporting_the_flows_own_hangup_does_not_cancel_it(
    engine: MediaEngine,
) -> None:
    leg = await engine.open_leg()
    sessions = []
    after_hangup = asyncio.Event()

    async def answer() -> None:
        pass

    def hangup(cause: str) -> None:  # what B2bua._hangup does: report every end of the call
        sessions[0].caller_hung_up()

    async def flow(call: Call) -> None:
        await call.answer()
        await call.hangup("done")
        await asyncio.sleep(0)  # work after hanging up (a database write) is not cancelled
        after_hangup.set()

    port = EngineMediaPort(engine, leg, answer=answer, hangup=hangup)
    sessions.append(FlowRunner({"f": flow}).start("f", port, call_id="c3", caller="1001",
                                                  dialled="8000"))
    outcome = await asyncio.wait_for(sessions[0].wait(), 2)
    assert after_hangup.is_set() and outcome.ended_by == "flow"
