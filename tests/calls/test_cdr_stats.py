"""Outbound call statistics for management: the API (httpx) and `softswitch cdr stats`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from typer.testing import CliRunner

from softswitch.app import Switch
from softswitch.cli import app as cli_app
from softswitch.config import Config, HttpConfig, SipConfig
from softswitch.store import CallRecord, Disposition, HangupSide, open_database
from softswitch.switch.directory import make_user

REALM = "stats.test"
# (call id, caller, dialled, cost class, started, answered after, lasted, disposition)
CALLS = [
    ("o1", "1001", "013800138000", "long_distance", 1000.0, 5.0, 125.0, Disposition.ANSWERED),
    ("o2", "1001", "88001234", "local", 2000.0, 3.0, 30.5, Disposition.ANSWERED),
    ("o3", "1002", "0044207946000", "international", 3000.0, 4.0, 601.0, Disposition.ANSWERED),
    ("o4", "1003", "16812345", "premium", 4000.0, None, 10.0, Disposition.NO_ANSWER),
    ("i1", "1001", "1002", "internal", 1500.0, 1.0, 300.0, Disposition.ANSWERED),
    ("late", "1001", "88009999", "local", 9000.0, 1.0, 1000.0, Disposition.ANSWERED),
]


async def _seed(data: Path) -> None:
    db = await open_database(data)
    try:
        realm = REALM
        await db.users.add_many([
            make_user("1001", "heart-desk-a", realm, department="cardiology"),
            make_user("1002", "heart-desk-b", realm, department="cardiology"),
            make_user("1003", "xray-desk-c", realm, department="radiology"),
        ])
        for call_id, caller, dialled, kind, start, answer, lasted, disposition in CALLS:
            await db.cdr.open(CallRecord(call_id, caller, "", dialled, "trunk carrier", start,
                                         cost_class=kind))
            if answer is not None:
                await db.cdr.answered(call_id, start + answer)
            await db.cdr.close(call_id, start + (answer or 0) + lasted, disposition, "BYE",
                               HangupSide.CALLER)
        # a refused call has no cost class: not an outbound call
        await db.cdr.open(CallRecord("r1", "1003", "", "00441", "refused: x", 1200.0))
        await db.cdr.close("r1", 1200.0, Disposition.FAILED, "403", HangupSide.SWITCH)
    finally:
        await db.close()


async def test_stats_api_groups_outbound_calls_by_extension_and_department(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    await _seed(data)
    sw = Switch(Config(sip=SipConfig(host="127.0.0.1", port=0, ipv6=False),
                       http=HttpConfig(host="127.0.0.1", port=0), data_dir=data))
    await sw.start()
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{sw.http_port}/api", timeout=10,
            headers={"Authorization": f"Bearer {sw.admin_token}"},
        ) as http:
            by_ext = (await http.get("/cdr/stats", params={"until": 5000})).json()
            by_dept = (await http.get("/cdr/stats", params={
                "until": 5000, "group_by": "department", "top": 2})).json()
            with_internal = (await http.get("/cdr/stats", params={
                "until": 5000, "include_internal": "true"})).json()
            bad_group = await http.get("/cdr/stats", params={"group_by": "floor"})
            bad_range = await http.get("/cdr/stats", params={"since": 10, "until": 5})
        async with httpx.AsyncClient(timeout=10) as http:
            anonymous = await http.get(f"http://127.0.0.1:{sw.http_port}/api/cdr/stats")
    finally:
        await sw.stop()
    groups = {g["key"]: g for g in by_ext["groups"]}
    assert set(groups) == {"1001", "1002", "1003"}
    # 125 s -> 3 min, 30.5 s (31 billable) -> 1 min; the internal call is left out
    assert groups["1001"]["calls"] == 2 and groups["1001"]["minutes"] == 4
    assert groups["1001"]["by_class"] == {"long_distance": {"calls": 1, "minutes": 3},
                                          "local": {"calls": 1, "minutes": 1}}
    assert groups["1002"]["by_class"] == {"international": {"calls": 1, "minutes": 11}}
    assert groups["1003"]["answered"] == 0 and groups["1003"]["minutes"] == 0
    assert by_ext["total"]["calls"] == 4 and by_ext["total"]["minutes"] == 15
    assert [c["call_id"] for c in by_ext["longest"]] == ["o3", "o1", "o2"]
    assert by_ext["longest"][0]["department"] == "cardiology"
    assert by_ext["groups"][0]["key"] == "1002"  # most minutes first
    depts = {g["key"]: g for g in by_dept["groups"]}
    assert depts["cardiology"]["calls"] == 3 and depts["cardiology"]["minutes"] == 15
    assert depts["radiology"]["by_class"] == {"premium": {"calls": 1, "minutes": 0}}
    assert len(by_dept["longest"]) == 2
    internal = {g["key"]: g for g in with_internal["groups"]}["1001"]
    assert internal["by_class"]["internal"] == {"calls": 1, "minutes": 5}
    assert bad_group.status_code == 422 and "'extension' or 'department'" in bad_group.text
    assert bad_range.status_code == 422 and "until must be after since" in bad_range.text
    assert anonymous.status_code == 401


async def _call_in_progress(data: Path) -> None:
    db = await open_database(data)
    try:
        await db.cdr.open(CallRecord("up", "1003", "", "88007777", "trunk carrier", 1300.0,
                                     cost_class="local"))
    finally:
        await db.close()


def test_cdr_stats_command_prints_a_table_json_and_clear_errors(tmp_path: Path) -> None:
    asyncio.run(_seed(tmp_path))
    asyncio.run(_call_in_progress(tmp_path))  # not counted until it ends
    runner = CliRunner()
    table = runner.invoke(cli_app, ["cdr", "stats", "--data", str(tmp_path), "--until", "5000",
                                    "--by", "department"])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split()[:4] == ["DEPARTMENT", "CALLS", "ANSWERED", "MINUTES"]
    cardiology = next(line for line in lines if line.startswith("cardiology"))
    assert cardiology.split()[1:4] == ["3", "3", "15"]
    assert "international 1/11m" in cardiology
    assert any(line.startswith("total") for line in lines)
    assert "0044207946000" in table.output  # the longest calls follow
    as_json = runner.invoke(cli_app, ["cdr", "stats", "--json", "--data", str(tmp_path),
                                      "--since", "1970-01-01T00:00:00", "--top", "1"])
    assert as_json.exit_code == 0, as_json.output
    parsed = json.loads(as_json.output)
    assert parsed["total"]["calls"] == 5  # the late call counts without --until
    assert [c["call_id"] for c in parsed["longest"]] == ["late"]
    empty = runner.invoke(cli_app, ["cdr", "stats", "--data", str(tmp_path), "--since", "99999"])
    assert empty.exit_code == 0 and "no outbound calls in that period" in empty.output
    bad = runner.invoke(cli_app, ["cdr", "stats", "--data", str(tmp_path), "--since", "soon"])
    assert bad.exit_code == 2 and "neither unix seconds nor an ISO date" in bad.output
    backwards = runner.invoke(cli_app, ["cdr", "stats", "--data", str(tmp_path),
                                        "--since", "10", "--until", "5"])
    assert backwards.exit_code == 2 and "--until must be after --since" in backwards.output
    wrong_group = runner.invoke(cli_app, ["cdr", "stats", "--data", str(tmp_path), "--by", "x"])
    assert wrong_group.exit_code == 2


def test_cdr_stats_internal_counts_calls_between_extensions(tmp_path: Path) -> None:
    """`softswitch cdr stats --internal`: the call 1001 -> 1002 (300 s: 5 min) is counted
    with the outbound ones; without the flag it is left out."""
    asyncio.run(_seed(tmp_path))
    runner = CliRunner()
    args = ["cdr", "stats", "--json", "--data", str(tmp_path), "--until", "5000"]
    without = runner.invoke(cli_app, args)
    with_internal = runner.invoke(cli_app, [*args, "--internal"])
    assert without.exit_code == 0 and with_internal.exit_code == 0, with_internal.output
    outbound = {g["key"]: g for g in json.loads(without.output)["groups"]}["1001"]
    everything = {g["key"]: g for g in json.loads(with_internal.output)["groups"]}["1001"]
    assert "internal" not in outbound["by_class"] and outbound["calls"] == 2
    assert everything["by_class"]["internal"] == {"calls": 1, "minutes": 5}
    assert everything["calls"] == 3 and everything["minutes"] == outbound["minutes"] + 5
    table = runner.invoke(cli_app, ["cdr", "stats", "--data", str(tmp_path), "--until", "5000",
                                    "--internal"])
    assert table.exit_code == 0
    row = next(line for line in table.output.splitlines() if line.startswith("1001"))
    assert "internal 1/5m" in row
