"""100rel/PRACK (RFC 3262) through the switch, with SIPp phones on both sides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.store import Disposition, HangupSide
from softswitch.switch.b2bua import CallSettings
from tests.calls.harness import closed_record, place_call, running_switch

USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b"}
CALLER = ("1001", USERS["1001"])


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with running_switch(tmp_path, USERS, CallSettings(no_answer_timeout=5.0)) as sw:
        yield sw


async def test_callee_reliable_183_is_pracked_and_relayed_reliably_to_a_caller_requiring_it(
    switch: Switch, tmp_path: Path
) -> None:
    # callee: checks Supported: 100rel and our PRACK's RAck before it answers;
    # caller: checks the 183's Require/RSeq/SDP, PRACKs it (200), then a stray PRACK (481)
    await place_call(switch, tmp_path, "call_uac_100rel.xml", CALLER,
                     callees=("call_uas_100rel.xml",))
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.ANSWERED
    assert record.hangup_side is HangupSide.CALLER


async def test_caller_without_100rel_gets_the_early_media_unreliably(
    switch: Switch, tmp_path: Path
) -> None:
    await place_call(switch, tmp_path, "call_uac_auth.xml", CALLER,
                     callees=("call_uas_100rel.xml",))
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.ANSWERED
