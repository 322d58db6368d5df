"""After a restart every phone registers again at once: the registrar must not read the
database per user or per AOR for that (it stalled for a second with 1,000 phones)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from softswitch.app import Switch
from softswitch.store.records import Binding
from tests.registrar.client import Phone
from tests.registrar.conftest import PASSWORDS
from tests.sipclient import UdpPeer


def _counted(reads: list[str], read: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def counting(aor: str, *args: Any) -> Any:
        reads.append(aor)
        return await read(aor, *args)
    return counting


async def test_a_restarted_switch_registers_everyone_without_a_read_each(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    before = Phone(udp, "1001", PASSWORDS["1001"])
    assert (await before.register()).status == 200
    config = directory_switch.config
    await directory_switch.stop()
    again = Switch(config)
    await again.start()
    try:
        assert again.users is not None and again.database is not None
        assert again.users.peek("1002")[0]  # every user is loaded at start-up, unasked
        aor_reads: list[str] = []
        bindings = again.database.bindings
        bindings.for_aor = _counted(aor_reads, bindings.for_aor)  # type: ignore[method-assign]
        peer = await UdpPeer.connect(again.sip_port)
        try:
            # 1001 again from a new port (a second binding); 1002 has never registered.
            ok_again = await Phone(peer, "1001", PASSWORDS["1001"]).register()
            ok_first = await Phone(peer, "1002", PASSWORDS["1002"]).register()
        finally:
            peer.close()
        assert (ok_again.status, ok_first.status) == (200, 200)
        assert aor_reads == []  # both AORs were known from the one read at start-up
        listed = ok_again.headers.get_all("contact")
        assert any(contact.startswith(f"<{before.contact_uri}>") for contact in listed), listed
        assert len(listed) == 2  # the binding from before the restart, and the new one
        stored: list[Binding] = await again.database.bindings.active(0)
        assert sorted(binding.aor for binding in stored) == ["1001", "1001", "1002"]
    finally:
        await again.stop()
