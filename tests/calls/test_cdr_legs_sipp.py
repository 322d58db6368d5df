"""One record per leg: a forked call through the switch (SIPp phones), read back over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from softswitch.app import Switch
from softswitch.cli import app as cli_app
from softswitch.store import Disposition
from softswitch.switch.b2bua import CallSettings
from tests.calls.harness import closed_record, place_call, running_switch

USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b"}
CALLER = ("1001", USERS["1001"])


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with running_switch(tmp_path, USERS, CallSettings(no_answer_timeout=2.0)) as sw:
        yield sw


async def _legs(switch: Switch, call_id: str) -> httpx.Response:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{switch.http_port}/api", timeout=10,
        headers={"Authorization": f"Bearer {switch.admin_token}"},
    ) as http:
        return await http.get(f"/cdr/{call_id}/legs")


async def test_forked_call_has_a_leg_per_contact_with_its_own_outcome(
    switch: Switch, tmp_path: Path
) -> None:
    await place_call(switch, tmp_path, "call_uac_auth.xml", CALLER,
                     callees=("call_uas_ring.xml", "call_uas_answer.xml"))
    record = await closed_record(switch, "1002")
    response = await _legs(switch, record.call_id)
    assert response.status_code == 200
    legs = response.json()
    assert [(leg["side"], leg["direction"]) for leg in legs] == [
        ("a", "inbound"), ("b", "outbound"), ("b", "outbound")]
    a, *forks = legs
    assert a["sip_call_id"] == record.call_id and a["disposition"] == "answered"
    assert a["peer"].startswith("sip:1001@") and a["address"].startswith("udp:127.0.0.1:")
    assert a["answered_at"] == record.answered_at and a["ended_at"] == record.ended_at
    by_outcome = {leg["disposition"]: leg for leg in forks}
    assert set(by_outcome) == {"answered", "cancelled"}
    assert by_outcome["cancelled"]["cause"] == "answered elsewhere"
    assert by_outcome["cancelled"]["answered_at"] is None
    assert by_outcome["answered"]["answered_at"] is not None
    assert forks[0]["sip_call_id"] == forks[1]["sip_call_id"] != record.call_id
    assert sorted(leg["peer"].split("@")[0] for leg in forks) == ["sip:1002-0", "sip:1002-1"]
    missing = await _legs(switch, "no-such-call")
    assert missing.status_code == 404 and "no call record" in missing.text


async def test_busy_callee_leg_keeps_its_486(switch: Switch, tmp_path: Path) -> None:
    await place_call(switch, tmp_path, "call_uac_486.xml", CALLER,
                     callees=("call_uas_busy.xml",), callees_must_pass=False)
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.BUSY and record.cost_class == "internal"
    legs = (await _legs(switch, record.call_id)).json()
    assert [(leg["side"], leg["disposition"], leg["cause"]) for leg in legs] == [
        ("a", "busy", "486 from callee"), ("b", "busy", "486 from callee")]
    runner = CliRunner()
    data = str(switch.config.data_dir)
    # the CLI runs its own event loop: off this test's loop, in a thread
    shown = await asyncio.to_thread(runner.invoke, cli_app,
                                    ["cdr", "legs", record.call_id, "--data", data])
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines()[0].split()[:3] == ["SIDE", "DIRECTION", "PEER"]
    assert shown.output.count("486 from callee") == 2
    unknown = await asyncio.to_thread(runner.invoke, cli_app, ["cdr", "legs", "nope", "--data", data])
    assert unknown.exit_code == 1 and "no call record 'nope'" in unknown.output
