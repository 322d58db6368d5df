"""SIP trunks end to end: SIPp plays the provider on one side, extensions on the other."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from softswitch.app import Switch
from softswitch.config import Config, HttpConfig, SecurityConfig, SipConfig
from softswitch.store import CallRecord, Disposition
from softswitch.switch.b2bua import CallSettings
from softswitch.switch.directory import make_user
from tests.calls.harness import Sipp, caller, register, wait_until

SCENARIOS = Path(__file__).parent / "scenarios"
PASSWORD = "caller-pass-a"
MakeSwitch = Callable[[dict[str, Any]], Awaitable[Switch]]


@pytest.fixture
async def make_switch(tmp_path: Path) -> AsyncIterator[MakeSwitch]:
    started: list[Switch] = []

    async def make(trunk: dict[str, Any]) -> Switch:
        features = {
            "trunks": {"carrier": trunk},
            "dialplan": {"routes": [{"prefix": "9", "trunk": "carrier", "strip": 1}]},
        }
        config = Config(
            sip=SipConfig(host="127.0.0.1", port=0, ipv6=False),
            http=HttpConfig(host="127.0.0.1", port=0),
            security=SecurityConfig(digest_algorithms=("MD5", "SHA-256")),
            data_dir=tmp_path / f"data{len(started)}", features=features,
        )
        switch = Switch(config)
        switch.call_settings = CallSettings(no_answer_timeout=2.0)
        await switch.start()
        started.append(switch)
        assert switch.database is not None
        await switch.database.users.add_many([
            make_user("1001", PASSWORD, switch.realm, class_of_service="national"),
            make_user("1002", "callee-pass-b", switch.realm),
        ])
        return switch

    try:
        yield make
    finally:
        for switch in started:
            await switch.stop()


async def _closed_record(switch: Switch, dialled: str) -> CallRecord:
    found: list[CallRecord] = []

    async def closed() -> bool:
        assert switch.database is not None
        found[:] = [r for r in await switch.database.cdr.search()
                    if r.dialled == dialled and r.disposition is not None]
        return bool(found)

    await wait_until(closed)
    return found[0]


async def test_outbound_call_answers_the_providers_challenge_and_presents_caller_id(
    make_switch: MakeSwitch, tmp_path: Path
) -> None:
    provider = await Sipp(str(SCENARIOS / "provider_uas_challenge.xml")).start()
    try:
        switch = await make_switch({
            "host": "127.0.0.1", "port": provider.port, "username": "trunkuser",
            "password": "trunkpass", "register": False, "from_user": "075512345600",
            "from_display": "City Hospital", "pai": True,
        })
        uac = await caller("call_uac_auth.xml", switch.sip_port, "1001", PASSWORD,
                           "9075512345678", tmp_path).start()
        code, out = await uac.wait()
        pcode, pout = await provider.wait()
        assert pcode == 0, pout[-3000:]
        assert code == 0, out[-3000:]
    finally:
        provider.stop()
    record = await _closed_record(switch, "9075512345678")
    assert record.route == "trunk carrier" and record.callee == "075512345678"
    assert record.disposition is Disposition.ANSWERED


async def test_inbound_call_from_acl_source_is_routed_by_did(
    make_switch: MakeSwitch, tmp_path: Path
) -> None:
    callee = await Sipp("call_uas_answer.xml").start()
    try:
        switch = await make_switch({
            "host": "127.0.0.1", "inbound_acl": ["127.0.0.0/8"],
            "did": {"075512345602": "1002"},
        })
        await register(switch, "1002", callee.port)
        provider = await Sipp(str(SCENARIOS / "provider_uac_inbound.xml"),
                              f"127.0.0.1:{switch.sip_port}", "-s", "075512345602").start()
        code, out = await provider.wait()
        assert code == 0, out[-3000:]
        code, out = await callee.wait()
        assert code == 0, out[-3000:]
    finally:
        callee.stop()
    record = await _closed_record(switch, "075512345602")
    assert record.caller == "13800138000" and record.callee == "1002"
    assert record.disposition is Disposition.ANSWERED


async def test_unauthenticated_call_from_outside_the_acl_gets_407(
    make_switch: MakeSwitch, tmp_path: Path
) -> None:
    switch = await make_switch({"host": "127.0.0.2", "inbound_acl": ["127.0.0.2"]})
    outsider = await Sipp(str(SCENARIOS / "outsider_uac_407.xml"),
                          f"127.0.0.1:{switch.sip_port}", "-s", "1002").start()
    code, out = await outsider.wait()
    assert code == 0, out[-3000:]
    assert switch.b2bua is not None and switch.b2bua.calls() == []
