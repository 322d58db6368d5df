"""The challenge to a REGISTER is answered statelessly (RFC 3261 8.2.7), over real UDP.

No server transaction object (nor Timer J) is kept for a REGISTER: the 401 that half of them
get goes out at once, and the bytes of every answer are remembered, so a retransmission gets
the very same 401 (same nonce, same To tag) or the very same 200.
"""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from softswitch.app import Switch
from softswitch.cli import app as cli
from softswitch.sip.digest import DigestAlgorithm
from tests.registrar.client import Phone, challenge_of
from tests.registrar.conftest import PASSWORDS
from tests.sipclient import UdpPeer


def to_tag(response: object) -> str:
    to = response.headers.get("to") or ""  # type: ignore[attr-defined]
    return to.split(";tag=", 1)[1]


async def test_challenge_keeps_no_transaction_and_a_retransmission_gets_the_same_401(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    assert directory_switch.core is not None
    layer = directory_switch.core.layer
    phone = Phone(udp, "1001", PASSWORDS["1001"])
    unauthenticated = phone.register_bytes()
    first = await udp.request(unauthenticated)
    again = await udp.request(unauthenticated)
    assert (first.status, again.status) == (401, 401)
    assert to_tag(first) == to_tag(again)
    assert first.headers.get_all("www-authenticate") == again.headers.get_all("www-authenticate")
    other = await udp.request(phone.register_bytes())
    assert other.status == 401 and to_tag(other) != to_tag(first)
    assert len(layer) == 0
    authorization = phone.answer(challenge_of(again, DigestAlgorithm.SHA256))
    answered = phone.register_bytes(authorization=authorization)
    ok = await udp.request(answered)
    assert ok.status == 200 and len(layer) == 0
    repeat = await udp.request(answered)
    assert repeat.status == 200 and to_tag(repeat) == to_tag(ok)
    assert repeat.headers.get("date") == ok.headers.get("date")


async def test_blocked_source_is_refused_statelessly(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    assert directory_switch.core is not None
    for attempt in range(10):
        response = await Phone(udp, "1001", f"wrong-password-{attempt}").register()
        if response.status == 403:
            break
    assert response.status == 403
    before = len(directory_switch.core.layer)
    refused = await udp.request(Phone(udp, "1001", PASSWORDS["1001"]).register_bytes())
    assert refused.status == 403 and len(directory_switch.core.layer) == before


async def test_a_password_changed_by_the_cli_is_noticed_while_the_switch_runs(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    """The user cache is revalidated by SQLite's data_version: a change made by another
    process (the CLI) shows within the cache's ttl, 5 s by default."""
    assert (await Phone(udp, "1001", PASSWORDS["1001"]).register()).status == 200
    data = str(directory_switch.config.data_dir)
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["users", "passwd", "1001", "--password", "new-secret-77",
                                  "--data", data],
    )
    assert result.exit_code == 0, result.output
    status = 0
    for _ in range(8):  # bounded: 8 x 1.5 s, fewer wrong answers than block the source
        await asyncio.sleep(1.5)
        status = (await Phone(udp, "1001", "new-secret-77").register()).status
        if status == 200:
            break
    assert status == 200
    assert (await Phone(udp, "1001", PASSWORDS["1001"]).register()).status == 401
