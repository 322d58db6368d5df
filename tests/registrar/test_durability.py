"""Bindings are durable: a new switch on the same data dir, or one after kill -9, lists them."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from softswitch.app import Switch
from tests.peers.registering import add_users, registrations
from tests.process import SwitchProcess
from tests.registrar.client import Phone
from tests.sipclient import UdpPeer


async def test_bindings_survive_a_restart_on_the_same_data_dir(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    phone = Phone(udp, "1001", "correct-horse-1")
    assert (await phone.register()).status == 200
    config = directory_switch.config
    await directory_switch.stop()
    again = Switch(config)
    await again.start()
    try:
        assert again.location is not None
        [binding] = await again.location.contacts_for("1001")
        assert binding.contact == phone.contact_uri
    finally:
        await again.stop()


async def test_an_acknowledged_binding_survives_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await asyncio.to_thread(add_users, data, {"1001": "correct-horse-1"})
    proc = await asyncio.to_thread(SwitchProcess(data).start)
    try:
        peer = await UdpPeer.connect(proc.sip_port)
        response = await Phone(peer, "1001", "correct-horse-1").register()
        peer.close()
        assert response.status == 200
    finally:
        await asyncio.to_thread(proc.stop, signal.SIGKILL)
    rows = await asyncio.to_thread(registrations, data)
    assert [row["extension"] for row in rows] == ["1001"]
