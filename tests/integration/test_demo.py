"""`--demo` (what `make run` uses): an empty data dir gets phones a newcomer can register."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from softswitch.app import Switch
from softswitch.config import Config, HttpConfig, SipConfig
from softswitch.demo import DEMO_PHONES
from softswitch.sip.digest import DigestAlgorithm
from softswitch.switch.directory import make_user
from tests.registrar.client import Phone, challenge_of
from tests.sipclient import UdpPeer


def demo_config(data: Path) -> Config:
    return Config(
        sip=SipConfig(host="127.0.0.1", port=0, ipv6=False),
        http=HttpConfig(host="127.0.0.1", port=0),
        data_dir=data,
        demo=True,
    )


async def test_demo_phone_registers(tmp_path: Path) -> None:
    switch = Switch(demo_config(tmp_path / "data"))
    await switch.start()
    try:
        assert switch.database is not None
        assert await switch.database.users.count() == len(DEMO_PHONES)
        president = await switch.database.users.get("1005")
        assert president is not None and "paging" in president.rights
        demo = DEMO_PHONES[0]
        peer = await UdpPeer.connect(switch.sip_port)
        try:
            phone = Phone(peer, demo.extension, demo.password, realm=switch.realm)
            challenge = await peer.request(phone.register_bytes())
            assert challenge.status == 401
            answer = phone.answer(challenge_of(challenge, DigestAlgorithm.SHA256))
            ok = await peer.request(phone.register_bytes(authorization=answer))
        finally:
            peer.close()
        assert ok.status == 200
    finally:
        await switch.stop()


async def test_demo_never_touches_a_directory_in_use(tmp_path: Path) -> None:
    first = Switch(dataclasses.replace(demo_config(tmp_path / "data"), demo=False))
    await first.start()
    assert first.database is not None
    await first.database.users.add(make_user("2001", "someone-else-1", first.realm))
    await first.stop()
    second = Switch(demo_config(tmp_path / "data"))
    await second.start()
    try:
        assert second.database is not None
        assert await second.database.users.count() == 1
    finally:
        await second.stop()
