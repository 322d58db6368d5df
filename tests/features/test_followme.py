"""Call waiting and follow-me, set through /api/line-settings, over real SIP (SIPp phones and
a scripted phone): a busy extension with call waiting off is refused 486 without ringing, with
it on the call rings; an extension whose desk phone is away follows the call to the next
number on its list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from softswitch.app import Switch
from softswitch.cli import app as cli
from tests.calls.harness import (
    Sipp,
    caller,
    closed_record,
    passed,
    register,
    running_switch,
)
from tests.features.harness import scenario
from tests.features.scripted_phone import ScriptedPhone

USERS = {"1001": "caller-pass-a", "1002": "doctor-pass-b", "1003": "mobile-pass-c"}


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with running_switch(tmp_path, USERS) as sw:
        yield sw


def api(switch: Switch) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{switch.http_port}/api",
                             headers={"Authorization": f"Bearer {switch.admin_token}"})


async def test_call_waiting_off_refuses_a_second_call_and_on_lets_it_ring(
        switch: Switch, tmp_path: Path) -> None:
    talking_to = await Sipp("call_uas_answer.xml").start()  # 1003, whom 1002 is talking to
    doctor = await ScriptedPhone("1002", USERS["1002"], switch.sip_port).start()
    desk = await Sipp("call_uas_answer.xml").start()  # 1002's phone for incoming calls
    try:
        await register(switch, "1003", talking_to.port)
        await register(switch, "1002", desk.port)
        await doctor.call("1003", rtp_port=40030)  # 1002 is now busy
        async with api(switch) as client:
            off = await client.put("/line-settings/1002", json={"call_waiting": False})
            assert off.status_code == 200 and off.json()["call_waiting"] is False
            refused = caller("call_uac_486.xml", switch.sip_port, "1001", USERS["1001"], "1002",
                             tmp_path)
            await passed(await refused.start())
            assert (await closed_record(switch, "1002")).cause == "486 callee busy"
            on = await client.put("/line-settings/1002", json={"call_waiting": True})
            assert on.json()["call_waiting"] is True
        rings = caller("call_uac_auth.xml", switch.sip_port, "1001", USERS["1001"], "1002",
                       tmp_path)
        await passed(await rings.start())
        await passed(desk)  # the waiting call reached the phone and was answered
    finally:
        doctor.close()
        desk.stop()
        talking_to.stop()


async def test_follow_me_rings_the_next_number_when_the_desk_phone_is_away(
        switch: Switch, tmp_path: Path) -> None:
    async with api(switch) as client:
        stored = await client.put("/line-settings/1002",
                                  json={"follow_me": ["1003"], "ring_seconds": 10})
        assert stored.json()["follow_me"] == ["1003"]
        bad = await client.put("/line-settings/1002", json={"follow_me": ["12ab"]})
        assert bad.status_code == 422 and "digits" in bad.json()["detail"]
        nobody = await client.get("/line-settings/4242")
        assert nobody.status_code == 404
    mobile = await Sipp(scenario("uas_ring_answer_bye.xml"), "-d", "1000").start()
    uac = caller("call_uac_wait_bye.xml", switch.sip_port, "1001", USERS["1001"], "1002",
                 tmp_path)
    try:
        await register(switch, "1003", mobile.port)  # 1002's desk phone is not registered
        await uac.start()
        await passed(mobile)  # 1003 rang, answered, talked and hung up ...
        await passed(uac)  # ... which ended the caller's call
    finally:
        uac.stop()
        mobile.stop()
    followed = await closed_record(switch, "1003")
    assert followed.caller == "1001" and followed.route == "follow-me for 1002"


async def test_cli_shows_and_sets_line_settings(switch: Switch) -> None:
    runner = CliRunner()
    data = str(switch.config.data_dir)

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["lines", *args, "--data", data])
        return result.exit_code, result.output

    code, out = await asyncio.to_thread(
        run, "set", "1002", "--no-call-waiting", "--follow-me", "1003, 1001", "--ring-seconds",
        "15")
    assert code == 0 and "call waiting  off" in out and "follow-me     1003, 1001" in out
    async with api(switch) as client:
        assert (await client.get("/line-settings/1002")).json() == {
            "extension": "1002", "call_waiting": False, "follow_me": ["1003", "1001"],
            "ring_seconds": 15}
    code, out = await asyncio.to_thread(run, "set", "1002", "--ring-seconds", "999")
    assert code == 1 and "between 5 and 120" in out
    code, out = await asyncio.to_thread(run, "show", "4242")
    assert code == 1 and "no such extension" in out
