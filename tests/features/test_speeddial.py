"""Speed dial: *0 + a code, system-wide from the configuration, personal through the API and
the CLI (personal wins), over real SIP with SIPp phones; bad input gets a clear refusal."""

from __future__ import annotations

import asyncio
import dataclasses
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
    calls_config,
    closed_record,
    passed,
    place_call,
    register,
    started_switch,
)

USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b", "1003": "other-pass-c"}


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    config = calls_config(tmp_path)
    config = dataclasses.replace(config, features={"speed_dial": {"01": "1003", "02": "1002"}})
    async with started_switch(config, USERS) as sw:
        yield sw


async def call_1002(switch: Switch, tmp: Path, dialled: str) -> None:
    """1001 dials ``dialled``; 1002 (a SIPp phone) must get the call and answer it."""
    phone = await Sipp("call_uas_answer.xml").start()
    uac = caller("call_uac_auth.xml", switch.sip_port, "1001", USERS["1001"], dialled, tmp)
    try:
        await register(switch, "1002", phone.port)
        await passed(await uac.start())
        await passed(phone)
    finally:
        uac.stop()
        phone.stop()


def api(switch: Switch) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{switch.http_port}/api",
                             headers={"Authorization": f"Bearer {switch.admin_token}"})


async def test_system_and_personal_codes_route_the_call(switch: Switch, tmp_path: Path) -> None:
    await call_1002(switch, tmp_path, "*002")
    assert (await closed_record(switch, "*002")).callee == "1002"
    async with api(switch) as client:
        stored = await client.put("/speed-dials/1001/01", json={"number": "1002"})
        assert stored.status_code == 200
        listed = (await client.get("/speed-dials/1001")).json()
    assert listed == {"system": {"01": "1003", "02": "1002"}, "personal": {"01": "1002"}}
    await call_1002(switch, tmp_path, "*001")
    assert (await closed_record(switch, "*001")).callee == "1002"  # personal beats system


async def test_unknown_code_is_refused(switch: Switch, tmp_path: Path) -> None:
    await place_call(switch, tmp_path, "call_uac_404.xml", ("1001", USERS["1001"]), "*099")
    assert (await closed_record(switch, "*099")).cause == "404 speed dial *099"


async def test_api_refuses_bad_codes_numbers_and_extensions(switch: Switch) -> None:
    async with api(switch) as client:
        bad_code = await client.put("/speed-dials/1001/1x", json={"number": "1002"})
        bad_number = await client.put("/speed-dials/1001/05", json={"number": "12ab"})
        nobody = await client.put("/speed-dials/4242/05", json={"number": "1002"})
        missing = await client.delete("/speed-dials/1001/07")
    assert bad_code.status_code == 422 and "two digits" in bad_code.json()["detail"]
    assert bad_number.status_code == 422 and "digits" in bad_number.json()["detail"]
    assert nobody.status_code == 404
    assert missing.status_code == 404


async def test_cli_sets_lists_and_removes_personal_codes(switch: Switch) -> None:
    runner = CliRunner()
    data = str(switch.config.data_dir)

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["speeddial", *args, "--data", data])
        return result.exit_code, result.output

    assert await asyncio.to_thread(run, "set", "1001", "07", "1003") == (0, "1001: *007 -> 1003\n")
    assert await asyncio.to_thread(run, "list", "1001") == (0, "*007  1003\n")
    code, out = await asyncio.to_thread(run, "set", "1001", "7", "1003")
    assert code == 1 and "two digits" in out
    code, out = await asyncio.to_thread(run, "set", "4242", "07", "1003")
    assert code == 1 and "no such extension" in out
    assert (await asyncio.to_thread(run, "remove", "1001", "07"))[0] == 0
    assert await asyncio.to_thread(run, "list", "1001") == (0, "")
