"""`Call.bridge` / `Call.dial` from a flow over real SIP/RTP: SIPp calls a flow number, the flow
rings an extension registered by another SIPp and connects the two; nobody answering raises
DialFailed with the status a caller would hear, and the flow stays in charge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.flows import Call, DialFailed
from softswitch.store import Disposition
from tests.calls.harness import closed_record, place_call, running_switch

USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b"}


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with running_switch(tmp_path, USERS) as sw:
        yield sw


async def test_bridge_connects_the_caller_to_the_answering_extension(
    switch: Switch, tmp_path: Path
) -> None:
    events: list[str] = []

    async def operator(call: Call) -> None:
        try:
            await call.bridge("1002", timeout=10)  # answers the caller only when 1002 answers
        finally:
            events.append(call.state.value)

    assert switch.flow_runner is not None
    switch.flow_runner.flows = {"appointments": operator}  # 8000 in the default dial plan
    # the caller hangs up 300 ms after the answer: the flow ends, 1002 gets its BYE
    await place_call(switch, tmp_path, "call_uac_auth.xml", ("1001", USERS["1001"]), "8000",
                     callees=("call_uas_answer.xml",), register_as="1002")
    assert events == ["ended"]
    record = await closed_record(switch, "8000")
    assert record.disposition is Disposition.ANSWERED
    far = await closed_record(switch, "1002")
    assert far.caller == "1001" and far.disposition is Disposition.ANSWERED


async def test_busy_extension_raises_dial_failed_and_the_flow_goes_on(
    switch: Switch, tmp_path: Path
) -> None:
    seen: list[int] = []

    async def operator(call: Call) -> None:
        try:
            await call.dial("1002", timeout=10)
        except DialFailed as exc:
            seen.append(exc.status)
        await call.hangup()  # never answered: the caller gets a failure, not a 200

    assert switch.flow_runner is not None
    switch.flow_runner.flows = {"appointments": operator}
    await place_call(switch, tmp_path, "call_uac_480.xml", ("1001", USERS["1001"]), "8000",
                     callees=("call_uas_busy.xml",), callees_must_pass=False,
                     register_as="1002")
    assert seen == [486]
