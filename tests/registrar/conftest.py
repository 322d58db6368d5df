"""A switch with a few extensions in its directory, and phones that register with it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from softswitch.app import Switch
from softswitch.switch.directory import make_user
from tests.sipclient import UdpPeer

PASSWORDS = {"1001": "correct-horse-1", "1002": "battery-staple-2", "1003": "disabled-user-3"}


@pytest.fixture
async def directory_switch(switch: Switch) -> Switch:
    """The shared ``switch`` fixture with extensions 1001..1003 (1003 disabled)."""
    assert switch.database is not None
    for extension, password in PASSWORDS.items():
        await switch.database.users.add(make_user(extension, password, switch.realm))
    await switch.database.users.set_enabled("1003", False)
    return switch


@pytest.fixture
async def udp(directory_switch: Switch) -> AsyncIterator[UdpPeer]:
    peer = await UdpPeer.connect(directory_switch.sip_port)
    try:
        yield peer
    finally:
        peer.close()
