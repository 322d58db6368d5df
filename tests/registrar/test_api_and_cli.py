"""The HTTP API (/api/users, /api/registrations, /api/security-events) and `softswitch
registrations`, over a real switch."""

from __future__ import annotations

import asyncio
import json

import httpx
from typer.testing import CliRunner

from softswitch.app import Switch
from softswitch.cli import app as cli
from tests.registrar.client import Phone
from tests.sipclient import UdpPeer


def client(switch: Switch) -> httpx.AsyncClient:
    token = (switch.config.data_dir / "admin-token").read_text().strip()
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{switch.http_port}",
                             headers={"Authorization": f"Bearer {token}"})


async def test_users_api_applies_the_cli_rules_and_a_new_user_can_register(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    async with client(directory_switch) as api:
        weak = await api.post("/api/users", json={"extension": "2001", "password": "short"})
        assert weak.status_code == 422 and weak.json()["detail"]["field"] == "password"
        bad = await api.post("/api/users", json={"extension": "x1", "password": "long-enough-1"})
        assert bad.json()["detail"]["field"] == "extension"
        made = await api.post("/api/users", json={"extension": "2001", "password": "long-enough-1",
                                                  "name": "Ward 3", "rights": ["paging"]})
        assert made.status_code == 201 and made.json()["rights"] == ["paging"]
        assert "ha1" not in json.dumps(made.json())
        again = await api.post("/api/users", json={"extension": "2001", "password": "long-enough-1"})
        assert again.status_code == 409
        assert (await Phone(udp, "2001", "long-enough-1").register()).status == 200
        listed = await api.get("/api/registrations")
        assert [r["extension"] for r in listed.json()] == ["2001"]
        assert listed.json()[0]["source"] == f"127.0.0.1:{udp.local[1]}"
        assert (await api.delete("/api/users/2001")).status_code == 204
        assert (await api.delete("/api/users/2001")).status_code == 404
        assert (await api.get("/api/registrations")).json() == []
    # Removed through the API: the cached entry is gone too, so it fails at once.
    assert (await Phone(udp, "2001", "long-enough-1").register()).status == 401


async def test_security_events_api_shows_failures_newest_first(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    await Phone(udp, "1001", "wrong-password-1").register()
    await Phone(udp, "9999", "wrong-password-2").register()
    async with client(directory_switch) as api:
        events = (await api.get("/api/security-events", params={"kind": "auth_failed"})).json()
        assert [e["user"] for e in events] == ["9999", "1001"]
        assert (await api.get("/api/security-events", params={"kind": "nope"})).status_code == 422


async def test_registrations_command_reads_the_store(directory_switch: Switch, udp: UdpPeer) -> None:
    assert (await Phone(udp, "1001", "correct-horse-1").register()).status == 200
    data = str(directory_switch.config.data_dir)
    # The command runs its own event loop, as from a shell: give it a thread.
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["registrations", "--data", data, "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert (row["extension"], row["transport"]) == ("1001", "UDP")
    table = await asyncio.to_thread(CliRunner().invoke, cli, ["registrations", "--data", data])
    assert "1001" in table.output and "TestPhone/1.0" in table.output
