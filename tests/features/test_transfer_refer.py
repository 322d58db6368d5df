"""Blind transfer by REFER over real SIP: SIPp phones as transferor, transferee and target.

1001 calls 1002, then REFERs 1002 to 1003 (answering the switch's 407 for the REFER). The
switch answers 202, reports 100 Trying and 200 OK in sipfrag NOTIFYs, calls 1003 itself,
bridges 1002 to it and hangs up on 1001. When 1003 hangs up, 1002 is hung up too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.store import CallRecord, Disposition
from tests.calls.harness import (
    Sipp,
    caller,
    passed,
    register,
    running_switch,
    wait_until,
)
from tests.features.harness import scenario
from tests.features.scripted_phone import ScriptedPhone

USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b", "1003": "target-pass-c"}


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with running_switch(tmp_path, USERS) as sw:
        yield sw


async def closed_records(switch: Switch, count: int) -> list[CallRecord]:
    """The call records once ``count`` of them are closed (bounded wait)."""
    assert switch.database is not None
    found: list[CallRecord] = []

    async def closed() -> bool:
        assert switch.database is not None
        found[:] = [r for r in await switch.database.cdr.search() if r.disposition is not None]
        return len(found) >= count

    await wait_until(closed, timeout=10)
    return found


async def transfer(switch: Switch, tmp: Path, transferor_scenario: str, talk_ms: int) -> None:
    """1001 calls 1002 and transfers it to 1003; every phone's scenario must pass."""
    transferee = await Sipp("call_uas_answer.xml").start()
    target = await Sipp(scenario("uas_ring_answer_bye.xml"), "-d", str(talk_ms)).start()
    uac = caller(scenario(transferor_scenario), switch.sip_port, "1001", USERS["1001"], "1002",
                 tmp)
    uac.args += ["-key", "refer_to", "1003"]
    try:
        await register(switch, "1002", transferee.port)
        await register(switch, "1003", target.port)
        await uac.start()
        await passed(uac)
        await passed(target)
        await passed(transferee)
    finally:
        for phone in (uac, target, transferee):
            phone.stop()


async def test_blind_transfer_connects_the_transferee_to_the_target(
        switch: Switch, tmp_path: Path) -> None:
    await transfer(switch, tmp_path, "uac_refer.xml", talk_ms=1000)
    records = {r.callee: r for r in await closed_records(switch, 2)}
    assert records["1002"].caller == "1001"
    assert records["1002"].disposition is Disposition.ANSWERED
    onward = records["1003"]  # the switch's call to the target, presenting the transferee
    assert onward.caller == "1002" and onward.disposition is Disposition.ANSWERED
    assert onward.route == "transfer from 1001"
    assert switch.b2bua is not None and switch.b2bua.calls() == []


async def test_transferor_hanging_up_early_still_completes_the_transfer(
        switch: Switch, tmp_path: Path) -> None:
    await transfer(switch, tmp_path, "uac_refer_leave.xml", talk_ms=1000)
    records = {r.callee: r for r in await closed_records(switch, 2)}
    assert records["1003"].caller == "1002"
    assert records["1003"].disposition is Disposition.ANSWERED
    assert switch.b2bua is not None and switch.b2bua.calls() == []


async def test_the_called_party_may_transfer_too(switch: Switch, tmp_path: Path) -> None:
    """1001 calls 1002 (a scripted phone), which REFERs 1001 to 1003: the REFER on the
    switch's leg towards the callee works the same way."""
    phone = await ScriptedPhone("1002", USERS["1002"], switch.sip_port).start()
    target = await Sipp(scenario("uas_ring_answer_bye.xml"), "-d", "1000").start()
    uac = caller("call_uac_wait_bye.xml", switch.sip_port, "1001", USERS["1001"], "1002",
                 tmp_path)
    try:
        await register(switch, "1002", phone.port)
        await register(switch, "1003", target.port)
        await uac.start()
        answered = await phone.answer_call(rtp_port=40040)
        accepted = await phone.in_dialog(answered, "REFER", [("Refer-To", "<sip:1003@127.0.0.1>")])
        assert accepted.status == 202, accepted.start_line
        for expected in (b"SIP/2.0 100 Trying", b"SIP/2.0 200 OK"):
            notify = await phone.request("NOTIFY", timeout=10)
            assert notify.body.startswith(expected), notify.body
            phone.answer(notify)
        phone.answer(await phone.request("BYE"))  # the switch hangs up on the transferor
        await passed(target)  # 1003 answered, talked to 1001, hung up ...
        await passed(uac)  # ... which ended 1001's call
    finally:
        phone.close()
        target.stop()
        uac.stop()
    records = {r.callee: r for r in await closed_records(switch, 2)}
    assert records["1003"].caller == "1001" and records["1003"].route == "transfer from 1002"
