"""Calls between extensions through the switch, with SIPp as caller and callee(s)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.store import Disposition, HangupSide
from softswitch.switch.b2bua import CallSettings
from softswitch.switch.dialplan import ClassOfService, DialPlan
from tests.calls.harness import (
    Sipp,
    caller,
    closed_record,
    place_call,
    register,
    running_switch,
    wait_until,
)

USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b"}
CALLER = ("1001", USERS["1001"])


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with running_switch(tmp_path, USERS, CallSettings(no_answer_timeout=2.0)) as sw:
        yield sw



async def test_answered_call_relays_ringing_answer_and_bye(switch: Switch, tmp_path: Path) -> None:
    await place_call(switch, tmp_path, "call_uac_auth.xml", CALLER,
                     callees=("call_uas_answer.xml",))
    record = await closed_record(switch, "1002")
    assert record.caller == "1001" and record.callee == "1002"
    assert record.disposition is Disposition.ANSWERED
    assert record.hangup_side is HangupSide.CALLER
    assert record.answered_at is not None and record.ended_at >= record.answered_at
    assert record.billable >= 1
    assert switch.b2bua is not None and switch.b2bua.calls() == []


async def test_busy_callee_gives_486_and_a_busy_record(switch: Switch, tmp_path: Path) -> None:
    await place_call(switch, tmp_path, "call_uac_486.xml", CALLER,
                     callees=("call_uas_busy.xml",), callees_must_pass=False)
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.BUSY and record.billable == 0


async def test_unregistered_callee_gives_480(switch: Switch, tmp_path: Path) -> None:
    await place_call(switch, tmp_path, "call_uac_480.xml", CALLER, "1002")
    assert (await closed_record(switch, "1002")).disposition is Disposition.NO_ANSWER


async def test_unknown_number_gives_404(switch: Switch, tmp_path: Path) -> None:
    await place_call(switch, tmp_path, "call_uac_404.xml", CALLER, "77")
    assert (await closed_record(switch, "77")).disposition is Disposition.FAILED


async def test_class_of_service_refusal_gives_403(switch: Switch, tmp_path: Path) -> None:
    await place_call(switch, tmp_path, "call_uac_403.xml", CALLER, "00441234567")
    record = await closed_record(switch, "00441234567")
    assert record.route.startswith("refused:")


async def test_cancel_reaches_every_fork_and_caller_gets_487(
    switch: Switch, tmp_path: Path
) -> None:
    await place_call(switch, tmp_path, "call_uac_cancel.xml", CALLER,
                     callees=("call_uas_ring.xml", "call_uas_ring.xml"))
    assert (await closed_record(switch, "1002")).disposition is Disposition.CANCELLED


async def test_first_answer_wins_and_the_other_fork_is_cancelled(
    switch: Switch, tmp_path: Path
) -> None:
    await place_call(switch, tmp_path, "call_uac_auth.xml", CALLER,
                     callees=("call_uas_ring.xml", "call_uas_answer.xml"))
    assert (await closed_record(switch, "1002")).disposition is Disposition.ANSWERED


async def test_no_answer_timeout_gives_480_and_cancels_the_callee(
    switch: Switch, tmp_path: Path
) -> None:
    await place_call(switch, tmp_path, "call_uac_480.xml", CALLER,
                     callees=("call_uas_ring.xml",))
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.NO_ANSWER
    assert 1.9 <= record.duration < 5


async def test_max_call_duration_without_a_prompt_ends_both_legs_at_once(
    switch: Switch, tmp_path: Path
) -> None:
    switch.dial_plan = DialPlan(cos={"internal": ClassOfService("internal", local=False,
                                                                max_call_seconds=1)})
    assert switch.b2bua is not None
    switch.b2bua.plan = switch.dial_plan
    switch.b2bua.prompts = None  # with one, test_announcements_sipp.py
    await place_call(switch, tmp_path, "call_uac_wait_bye.xml", CALLER,
                     callees=("call_uas_answer.xml",))
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.ANSWERED
    assert record.hangup_side is HangupSide.SWITCH and record.cause == "maximum call duration"
    assert record.answered_at is not None and record.ended_at is not None
    assert 1.0 <= record.ended_at - record.answered_at < 1.5


async def test_rtp_timeout_ends_both_legs_with_cause_rtp_timeout(
    switch: Switch, tmp_path: Path
) -> None:
    assert switch.b2bua is not None
    switch.b2bua.settings = CallSettings(no_answer_timeout=2.0, rtp_timeout=0.4)
    # neither SIPp sends any RTP
    await place_call(switch, tmp_path, "call_uac_wait_bye.xml", CALLER,
                     callees=("call_uas_answer.xml",))
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.ANSWERED
    assert record.hangup_side is HangupSide.SWITCH and record.cause == "rtp_timeout"
    assert record.answered_at is not None and record.ended_at is not None
    assert 0.4 <= record.ended_at - record.answered_at < 0.8


async def test_session_expires_below_min_se_gets_422(switch: Switch, tmp_path: Path) -> None:
    await place_call(switch, tmp_path, "call_uac_422.xml", CALLER)
    assert switch.b2bua is not None and switch.b2bua.calls() == []


async def test_session_timer_negotiated_on_both_legs_and_refreshed_by_update(
    switch: Switch, tmp_path: Path
) -> None:
    await place_call(switch, tmp_path, "call_uac_session_timer.xml", CALLER,
                     callees=("call_uas_session_timer.xml",))
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.ANSWERED
    assert record.hangup_side is HangupSide.CALLER


async def test_caller_over_tcp_reaches_a_udp_callee(switch: Switch, tmp_path: Path) -> None:
    await place_call(switch, tmp_path, "call_uac_auth.xml", CALLER,
                     callees=("call_uas_answer.xml",), caller_args=("-t", "t1"))
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.ANSWERED
    assert record.hangup_side is HangupSide.CALLER


async def test_a_reinvite_before_the_last_is_acked_gets_500_with_retry_after(
    switch: Switch, tmp_path: Path
) -> None:
    """RFC 3261 14.2: the second INVITE is refused with a Retry-After (the caller's scenario
    fails without one), and the call goes on."""
    await place_call(switch, tmp_path, "call_uac_reinvite_glare.xml", CALLER,
                     callees=("call_uas_answer.xml",))


async def test_hold_sets_the_media_direction_and_plays_a_tone_to_the_held_party(
    switch: Switch, tmp_path: Path
) -> None:
    assert switch.b2bua is not None and switch.media is not None
    b2bua, media = switch.b2bua, switch.media
    callee = await Sipp("call_uas_answer.xml").start()  # sends no RTP of its own
    try:
        await register(switch, "1002", callee.port)
        uac = await caller("call_uac_hold.xml", switch.sip_port, "1001", USERS["1001"], "1002",
                           tmp_path).start()

        async def held() -> bool:
            calls = b2bua.calls()
            call = b2bua.find(calls[0]["call_id"]) if calls else None
            return bool(call and call.a and call.a.negotiated and call.a.negotiated.remote_hold)

        await wait_until(held)
        call = b2bua.find(b2bua.calls()[0]["call_id"])
        assert call is not None and call.a is not None and call.b is not None
        assert call.a.negotiated.direction.value == "recvonly"
        assert call.a.media.stream.sending is False  # engine told: nothing to the holder
        sent_before = media.stats(call.b.media).packets_sent
        await asyncio.sleep(0.3)
        assert media.stats(call.b.media).packets_sent >= sent_before + 10  # the hold tone
        code, out = await uac.wait()
        assert code == 0, out[-3000:]
        code, out = await callee.wait()
        assert code == 0, out[-3000:]
    finally:
        callee.stop()
