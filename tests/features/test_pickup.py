"""Call pickup over real SIP with SIPp phones: 1001 calls 1002, which rings; 1003 (same
department) dials *8, or 1004 (another department) dials **1002, and talks to 1001; 1002's
ringing is CANCELled. Nothing ringing in the group is a 404."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.store import Disposition
from softswitch.switch.directory import make_user
from tests.calls.harness import Sipp, caller, calls_config, closed_record, passed, register
from tests.features.harness import scenario, talking_caller
from tests.features.test_transfer_refer import closed_records

PASSWORDS = {"1001": "caller-pass-a", "1002": "callee-pass-b", "1003": "nurse-pass-c",
             "1004": "porter-pass-d"}
DEPARTMENTS = {"1001": "admin", "1002": "ward3", "1003": "ward3", "1004": "porters"}


# `[pickup.groups]`: 1002 and 1004 pick up each other's calls across their departments;
# 1003, alone in its group, no longer picks up its department's (ward3) calls.
GROUPS = {"station": ["1002", "1004"], "desk": ["1003"]}


@pytest.fixture(params=[False, True], ids=["departments", "groups"])
def grouped(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
async def switch(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Switch]:
    config = calls_config(tmp_path)
    if "grouped" in request.fixturenames and request.getfixturevalue("grouped"):
        config = dataclasses.replace(
            config, features={**config.features, "pickup": {"groups": GROUPS}})
    sw = Switch(config)
    await sw.start()
    assert sw.database is not None
    await sw.database.users.add_many([
        make_user(e, p, sw.realm, department=DEPARTMENTS[e]) for e, p in PASSWORDS.items()])
    try:
        yield sw
    finally:
        await sw.stop()


async def ringing(switch: Switch, timeout: float = 10.0) -> None:
    assert switch.b2bua is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c["state"] == "ringing" for c in switch.b2bua.calls()):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("nothing rang")


async def pick_up(switch: Switch, tmp: Path, picker: str, dialled: str) -> None:
    """1001 calls 1002 (ringing), ``picker`` dials ``dialled``; every phone must pass."""
    rung = await Sipp("call_uas_ring.xml").start()
    uac = talking_caller(switch, "1001", PASSWORDS["1001"], "1002", tmp, 2000)
    grabber = caller("call_uac_wait_bye.xml", switch.sip_port, picker, PASSWORDS[picker],
                     dialled, tmp)
    try:
        await register(switch, "1002", rung.port)
        await uac.start()
        await ringing(switch)
        await grabber.start()
        await passed(uac)  # answered by the picker, talks, hangs up
        await passed(grabber)  # ... which hangs up the picker too
        await passed(rung)  # 1002 was CANCELled
    finally:
        for peer in (uac, grabber, rung):
            peer.stop()


async def test_group_pickup_answers_a_call_ringing_in_the_department(
        switch: Switch, tmp_path: Path) -> None:
    await pick_up(switch, tmp_path, "1003", "*8")
    records = {r.dialled: r for r in await closed_records(switch, 2)}
    assert records["1002"].disposition is Disposition.ANSWERED
    assert records["*8"].disposition is Disposition.ANSWERED
    assert switch.b2bua is not None and switch.b2bua.calls() == []


async def test_directed_pickup_answers_a_call_ringing_that_extension(
        switch: Switch, tmp_path: Path) -> None:
    await pick_up(switch, tmp_path, "1004", "**1002")
    records = {r.dialled: r for r in await closed_records(switch, 2)}
    assert records["**1002"].disposition is Disposition.ANSWERED


async def test_group_pickup_with_nothing_ringing_is_refused(
        switch: Switch, tmp_path: Path) -> None:
    uac = caller("call_uac_404.xml", switch.sip_port, "1003", PASSWORDS["1003"], "*8", tmp_path)
    try:
        await passed(await uac.start())
    finally:
        uac.stop()
    [record] = await closed_records(switch, 1)
    assert record.cause == "404 no ringing call"


async def test_group_pickup_does_not_reach_another_department(
        switch: Switch, tmp_path: Path) -> None:
    """1004 (porters) dials *8 while a ward3 phone rings: nothing of its group rings, 404;
    the ringing call goes on ringing (its caller then gives up)."""
    await refused_pickup(switch, tmp_path, "1004")


async def refused_pickup(switch: Switch, tmp: Path, picker: str) -> None:
    """1001 calls 1002 (ringing); ``picker`` dials *8 and gets 404; the call rings on."""
    rung = await Sipp("call_uas_ring.xml").start()
    uac = caller(scenario("uac_ring_then_cancel.xml"), switch.sip_port, "1001",
                 PASSWORDS["1001"], "1002", tmp)
    uac.args += ["-d", "4000"]
    other = caller("call_uac_404.xml", switch.sip_port, picker, PASSWORDS[picker], "*8", tmp)
    try:
        await register(switch, "1002", rung.port)
        await uac.start()
        await ringing(switch)
        await passed(await other.start())
        await passed(uac)
        await passed(rung)
    finally:
        for peer in (uac, other, rung):
            peer.stop()
    assert (await closed_record(switch, "*8")).cause == "404 no ringing call"


async def test_configured_pickup_group_replaces_the_departments(
        switch: Switch, tmp_path: Path, grouped: bool) -> None:
    """1004 (porters) dials *8 while 1002 (ward3) rings: refused by department, picked up
    once `[pickup.groups]` puts both phones in one group."""
    if grouped:
        await pick_up(switch, tmp_path, "1004", "*8")
        records = {r.dialled: r for r in await closed_records(switch, 2)}
        assert records["*8"].disposition is Disposition.ANSWERED
        assert records["1002"].disposition is Disposition.ANSWERED
    else:
        await refused_pickup(switch, tmp_path, "1004")


async def test_a_phone_in_a_configured_group_leaves_its_department(
        switch: Switch, tmp_path: Path, grouped: bool) -> None:
    """1003 and 1002 share ward3: 1003 picks 1002's call up by department, but not once
    `[pickup.groups]` puts 1003 in a group of its own."""
    if grouped:
        await refused_pickup(switch, tmp_path, "1003")
    else:
        await pick_up(switch, tmp_path, "1003", "*8")
        assert (await closed_record(switch, "*8")).disposition is Disposition.ANSWERED
