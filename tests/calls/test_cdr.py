"""Call records: repository, crash recovery, API (JSON/CSV) and CLI; status mapping rules."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import aiohttp
from typer.testing import CliRunner

from softswitch.app import Switch
from softswitch.cli import app as cli_app
from softswitch.config import Config, HttpConfig, SipConfig
from softswitch.store import CallRecord, Disposition, HangupSide, open_database
from softswitch.switch.call import best_failure, disposition_for


def test_best_failure_prefers_busy_over_unavailable_over_not_found() -> None:
    assert best_failure([404, 480, 486]) == 486
    assert best_failure([408, 404]) == 404
    assert best_failure([503, 487]) == 503
    assert best_failure([603, 486]) == 603
    assert best_failure([]) == 480


def test_disposition_of_unanswered_calls() -> None:
    assert disposition_for(486) is Disposition.BUSY
    assert disposition_for(480) is Disposition.NO_ANSWER
    assert disposition_for(404) is Disposition.FAILED
    assert disposition_for(487, cancelled=True) is Disposition.CANCELLED


async def test_record_life_and_billable_seconds_round_up(tmp_path: Path) -> None:
    db = await open_database(tmp_path)
    try:
        await db.cdr.open(CallRecord("c1", "1001", "1002", "1002", "extension", 100.0))
        await db.cdr.answered("c1", 102.0)
        await db.cdr.close("c1", 110.5, Disposition.ANSWERED, "BYE from caller", HangupSide.CALLER)
        await db.cdr.close("c1", 999.0, Disposition.FAILED, "again", None)  # no second close
        record = await db.cdr.get("c1")
    finally:
        await db.close()
    assert record is not None
    assert (record.duration, record.billable) == (10.5, 9)
    assert record.disposition is Disposition.ANSWERED and record.hangup_side is HangupSide.CALLER


async def test_calls_open_at_a_crash_are_closed_as_interrupted_on_start(
    switch_data: Path,
) -> None:
    db = await open_database(switch_data)
    try:
        await db.cdr.open(CallRecord("crashed", "1001", "1002", "1002", "extension", 50.0))
    finally:
        await db.close()
    sw = Switch(Config(sip=SipConfig(host="127.0.0.1", port=0, ipv6=False),
                       http=HttpConfig(host="127.0.0.1", port=0), data_dir=switch_data))
    await sw.start()
    try:
        assert sw.database is not None
        record = await sw.database.cdr.get("crashed")
        assert record is not None and record.disposition is Disposition.INTERRUPTED
        async with aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {sw.admin_token}"}
        ) as http:
            base = f"http://127.0.0.1:{sw.http_port}/api"
            async with http.get(f"{base}/cdr", params={"disposition": "interrupted"}) as r:
                assert r.status == 200
                rows = await r.json()
            async with http.get(f"{base}/cdr", params={"format": "csv",
                                                        "extension": "1001"}) as r:
                text = await r.text()
            async with http.get(f"{base}/cdr", params={"disposition": "bogus"}) as r:
                assert r.status == 422
            async with http.get(f"{base}/calls") as r:
                assert await r.json() == []
    finally:
        await sw.stop()
    assert [row["call_id"] for row in rows] == ["crashed"]
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert parsed[0]["call_id"] == "crashed" and parsed[0]["disposition"] == "interrupted"


def test_cdr_command_lists_filters_and_exports(tmp_path: Path) -> None:
    async def seed() -> None:
        db = await open_database(tmp_path)
        try:
            await db.cdr.open(CallRecord("a1", "1001", "1002", "1002", "extension", 10.0))
            await db.cdr.close("a1", 20.0, Disposition.BUSY, "486 from callee", HangupSide.CALLEE)
            await db.cdr.open(CallRecord("a2", "1003", "1004", "1004", "extension", 30.0))
            await db.cdr.close("a2", 31.0, Disposition.CANCELLED, "cancelled", HangupSide.CALLER)
        finally:
            await db.close()

    asyncio.run(seed())
    runner = CliRunner()
    result = runner.invoke(cli_app, ["cdr", "--json", "--data", str(tmp_path),
                                     "--extension", "1002"])
    assert result.exit_code == 0, result.output
    assert [row["call_id"] for row in json.loads(result.output)] == ["a1"]
    result = runner.invoke(cli_app, ["cdr", "--csv", "--data", str(tmp_path),
                                     "--disposition", "cancelled"])
    assert [row["call_id"] for row in csv.DictReader(io.StringIO(result.output))] == ["a2"]
    result = runner.invoke(cli_app, ["cdr", "--data", str(tmp_path)])
    assert "busy" in result.output and "cancelled" in result.output
