"""`softswitch cards add/show/topup` on a data directory, with the switch stopped and while it
runs (a separate process writing the same SQLite file)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from softswitch.app import Switch
from softswitch.cli import app
from softswitch.hospital.booking import BookingError, BookingService
from softswitch.store import open_database


@pytest.fixture
def cards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOFTSWITCH_DATA", str(tmp_path / "var"))
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, ["cards", *args], input=input)

    return invoke


def test_add_show_and_topup(cards, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    added = cards("add", "10001", "--name", "张三", "--pin", "123456", "--phone", "13800000001",
                  "--phone", "13900000001", "--balance", "100")
    assert added.exit_code == 0, added.output
    assert "added card 10001" in added.stdout and "100.00" in added.stdout
    topped = cards("topup", "10001", "20.50", "--note", "receipt 77")
    assert topped.exit_code == 0 and "balance 120.50" in topped.stdout
    shown = cards("show", "10001")
    assert shown.exit_code == 0, shown.output
    assert "张三" in shown.stdout and "13800000001, 13900000001" in shown.stdout
    assert "no appointments" in shown.stdout and "receipt 77" in shown.stdout
    assert "123456" not in shown.stdout
    as_json = json.loads(cards("show", "10001", "--json").stdout)
    assert as_json["balance"] == "120.50"
    assert [m["reason"] for m in as_json["ledger"]] == ["open", "topup"]
    assert b"123456" not in (tmp_path / "var" / "softswitch.db").read_bytes()


def test_pin_is_prompted_for_twice_and_hidden(cards) -> None:  # type: ignore[no-untyped-def]
    result = cards("add", "10002", "--name", "李四", input="654321\n654321\n")
    assert result.exit_code == 0, result.output
    assert "654321" not in result.stdout


def test_a_new_pin_lifts_the_lockout(cards, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cards("add", "10001", "--name", "a", "--pin", "123456").exit_code == 0

    async def attempts() -> list[str]:
        async with await open_database(tmp_path / "var") as db:
            service = BookingService(db)
            outcomes = []
            for pin in ["000000"] * service.max_pin_failures + ["123456"]:
                try:
                    await service.verify_card("10001", pin, source="test")
                    outcomes.append("ok")
                except BookingError as error:
                    outcomes.append(error.code)
            return outcomes

    assert asyncio.run(attempts())[-1] == "card_locked"
    changed = cards("pin", "10001", input="777777\n777777\n")
    assert changed.exit_code == 0 and "PIN changed" in changed.stdout, changed.output
    assert "777777" not in changed.stdout

    async def verify() -> str:
        async with await open_database(tmp_path / "var") as db:
            return (await BookingService(db).verify_card("10001", "777777", source="t")).number

    assert asyncio.run(verify()) == "10001"
    assert cards("pin", "99999", "--pin", "1234").exit_code == 1


def test_refusals_are_one_line_errors(cards) -> None:  # type: ignore[no-untyped-def]
    assert cards("add", "10001", "--name", "a", "--pin", "123456").exit_code == 0
    for args, reason in [
        (("add", "10001", "--name", "b", "--pin", "123456"), "already exists"),
        (("add", "12x", "--name", "b", "--pin", "123456"), "card: must be 4 to 20 digits"),
        (("add", "10003", "--name", "b", "--pin", "12"), "pin: must be 4 to 12 digits"),
        (("topup", "10001", "ten"), "amount"),
        (("topup", "10001", "--", "-5"), "more than zero"),
        (("topup", "99999", "5"), "no card 99999"),
        (("show", "99999"), "no card 99999"),
    ]:
        result = cards(*args)
        assert result.exit_code == 1, (args, result.output)
        assert reason in result.stderr and "Traceback" not in result.output, result.output
        assert len(result.stderr.strip().splitlines()) == 1


async def test_topup_from_the_cli_while_the_switch_runs(switch: Switch) -> None:
    assert switch.booking is not None
    await switch.booking.add_card("10001", "123456", "张三", balance="10")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "softswitch", "cards", "topup", "10001", "90",
        "--data", str(switch.config.data_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert "balance 100.00" in out.decode()
    token = (switch.config.data_dir / "admin-token").read_text().strip()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{switch.http_port}") as client:
        card = await client.get("/api/cards/10001", headers={"Authorization": f"Bearer {token}"})
    assert card.json()["balance"] == "100.00"
