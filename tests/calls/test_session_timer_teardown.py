"""RFC 4028 section 10: a call whose refresher stops refreshing is torn down by the switch.

The RFC's 90 s Min-SE floor is lowered through `SessionTimerPolicy.floor` (the seam for tests)
so the dead session expires after about 2 s: interval 3 s minus min(32, 3 / 3).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.sip.session_timer import SessionTimerPolicy
from softswitch.store import Disposition, HangupSide
from softswitch.switch.b2bua import CallSettings
from tests.calls.harness import closed_record, place_call, running_switch

USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b"}


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with running_switch(tmp_path, USERS, CallSettings(
        no_answer_timeout=5.0,
        session_timer=SessionTimerPolicy(session_expires=3, min_se=3, floor=3))) as sw:
        yield sw


def test_the_floor_is_the_rfcs_unless_lowered() -> None:
    with pytest.raises(ValueError, match="at least 90"):
        SessionTimerPolicy(session_expires=3, min_se=3)
    with pytest.raises(ValueError, match="at least 1 second"):
        SessionTimerPolicy(session_expires=3, min_se=3, floor=0)


async def test_caller_that_stops_refreshing_gets_bye_and_so_does_the_callee(
    switch: Switch, tmp_path: Path
) -> None:
    # both SIPp phones must receive a BYE from the switch and answer it
    await place_call(switch, tmp_path, "call_uac_session_timer_silent.xml",
                     ("1001", USERS["1001"]), callees=("call_uas_answer.xml",))
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.ANSWERED
    assert record.hangup_side is HangupSide.SWITCH
    assert record.cause == "session timer expired"
    assert record.answered_at is not None and record.ended_at is not None
    assert 1.9 <= record.ended_at - record.answered_at < 6
    assert switch.b2bua is not None and switch.b2bua.calls() == []
