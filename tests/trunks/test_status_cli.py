"""`softswitch status` against a running switch (in a thread: the CLI blocks) and a stopped one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from softswitch.app import Switch
from softswitch.cli import app
from softswitch.cli.status import render_status
from softswitch.config import Config, HttpConfig, SipConfig
from tests.calls.harness import register
from tests.process import free_port


async def test_status_shows_uptime_listeners_calls_registrations_and_trunks(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    config = Config(sip=SipConfig(host="127.0.0.1", port=0, ipv6=False),
                    http=HttpConfig(host="127.0.0.1", port=0), data_dir=data,
                    features={"trunks": {"gw": {"host": "192.0.2.1"}}})
    switch = Switch(config)
    await switch.start()
    try:
        await register(switch, "1002", 5999)
        url = f"http://127.0.0.1:{switch.http_port}"
        result = await asyncio.to_thread(
            CliRunner().invoke, app, ["status", "--url", url, "--data", str(data)])
    finally:
        await switch.stop()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("switch         up 00:00:")
    assert "registrations  1 contact(s) for 1 extension(s)" in lines
    assert "live calls     0" in lines
    assert any(line.startswith("listening      ") and "udp" in line.lower() for line in lines)
    assert "trunk          gw (192.0.2.1:5060) static peer" in lines


def test_status_of_a_stopped_switch_still_counts_registrations(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["status", "--url", url, "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"switch         not running (no answer at {url})",
        "registrations  0 contact(s) for 0 extension(s)",
    ]


def test_render_lists_registering_trunk_state() -> None:
    running = {"uptime_seconds": 90061, "live_calls": 3, "sip": [], "trunks": [
        {"trunk": "carrier", "host": "h", "port": 5060, "registers": True, "state": "failed"}]}
    lines = render_status(running, 4, 2, "u")
    assert lines[0] == "switch         up 1d 01:01:01"
    assert "live calls     3" in lines and "trunk          carrier (h:5060) failed" in lines
