"""Attended transfer: 1001 (a scripted phone holding two calls) talks to 1002, consults 1003,
then REFERs 1002 to 1003 with a Replaces naming the consultation call (RFC 3891). The switch
joins 1002 and 1003, reports 200 OK in a sipfrag NOTIFY and hangs up both of 1001's calls;
1003 hanging up later ends 1002's call. 1002 and 1003 are SIPp phones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest

from softswitch.app import Switch
from tests.calls.harness import Sipp, passed, register, running_switch
from tests.features.harness import scenario
from tests.features.scripted_phone import PhoneCall, ScriptedPhone
from tests.features.test_transfer_refer import closed_records

USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b", "1003": "target-pass-c"}


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with running_switch(tmp_path, USERS) as sw:
        yield sw


def replaces(call: PhoneCall) -> str:
    """The escaped Replaces of a Refer-To naming ``call`` (to-tag: the switch's)."""
    dialog = call.dialog.id
    value = f"{dialog.call_id};to-tag={dialog.remote_tag};from-tag={dialog.local_tag}"
    return "Replaces=" + quote(value, safe="")


async def test_attended_transfer_joins_the_far_ends(switch: Switch, tmp_path: Path) -> None:
    transferee = await Sipp("call_uas_answer.xml").start()
    target = await Sipp(scenario("uas_ring_answer_bye.xml"), "-d", "3000").start()
    phone = await ScriptedPhone("1001", USERS["1001"], switch.sip_port).start()
    try:
        await register(switch, "1002", transferee.port)
        await register(switch, "1003", target.port)
        first = await phone.call("1002", rtp_port=40010)
        consultation = await phone.call("1003", rtp_port=40012)
        refer_to = f"<sip:1003@127.0.0.1?{replaces(consultation)}>"
        accepted = await phone.in_dialog(first, "REFER", [("Refer-To", refer_to)])
        assert accepted.status == 202, accepted.start_line
        for expected in (b"SIP/2.0 100 Trying", b"SIP/2.0 200 OK"):
            notify = await phone.request("NOTIFY")
            assert notify.body.startswith(expected), notify.body
            assert notify.headers.get("event") == "refer"
            phone.answer(notify)
        assert "terminated" in (notify.headers.get("subscription-state") or "")
        byes = {(await phone.request("BYE")).call_id for _ in range(2)}
        assert byes == {first.dialog.id.call_id, consultation.dialog.id.call_id}
        await passed(target)  # 1003 talks to 1002, then hangs up
        await passed(transferee)  # ... which ends 1002's call
    finally:
        phone.close()
        transferee.stop()
        target.stop()
    records = {r.callee: r for r in await closed_records(switch, 2)}
    assert records["1002"].caller == records["1003"].caller == "1001"
    assert switch.b2bua is not None and switch.b2bua.calls() == []


async def test_refer_with_an_unknown_replaces_is_refused(switch: Switch, tmp_path: Path) -> None:
    transferee = await Sipp("call_uas_answer.xml").start()
    phone = await ScriptedPhone("1001", USERS["1001"], switch.sip_port).start()
    try:
        await register(switch, "1002", transferee.port)
        first = await phone.call("1002", rtp_port=40014)
        bogus = "Replaces=" + quote("nosuchcall@x;to-tag=1;from-tag=2", safe="")
        refused = await phone.in_dialog(first, "REFER", [("Refer-To", f"<sip:1003@x?{bogus}>")])
        assert refused.status == 481
        missing = await phone.in_dialog(first, "REFER", [])
        assert (missing.status, missing.reason) == (400, "a REFER needs exactly one Refer-To")
        assert switch.b2bua is not None and len(switch.b2bua.calls()) == 1  # still talking
    finally:
        phone.close()
        transferee.stop()


async def test_invite_with_replaces_moves_a_call_to_another_phone(
        switch: Switch, tmp_path: Path) -> None:
    """1001 on its desk phone talks to 1002, then its softphone sends an INVITE with Replaces
    naming the desk phone's dialog (RFC 3891): the softphone takes over, the desk phone gets
    a BYE, 1002 notices nothing until the softphone hangs up."""
    transferee = await Sipp("call_uas_answer.xml").start()
    desk = await ScriptedPhone("1001", USERS["1001"], switch.sip_port).start()
    soft = await ScriptedPhone("1001", USERS["1001"], switch.sip_port).start()
    stranger = await ScriptedPhone("1003", USERS["1003"], switch.sip_port).start()
    try:
        await register(switch, "1002", transferee.port)
        first = await desk.call("1002", rtp_port=40016)
        dialog = first.dialog.id
        value = f"{dialog.call_id};to-tag={dialog.remote_tag};from-tag={dialog.local_tag}"
        with pytest.raises(AssertionError, match="403"):
            await stranger.call("1002", rtp_port=40018, extra=(("Replaces", value),))
        moved = await soft.call("1002", rtp_port=40020, extra=(("Replaces", value),))
        bye = await desk.request("BYE")
        assert bye.call_id == dialog.call_id
        desk.answer(bye)
        hangup = await soft.in_dialog(moved, "BYE", [])
        assert hangup.status == 200
        await passed(transferee)  # 1002 gets its BYE only now
    finally:
        for phone in (desk, soft, stranger):
            phone.close()
        transferee.stop()
