"""REGISTER over real loopback UDP and TCP sockets against the in-process switch."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import pytest

from softswitch.app import Switch
from softswitch.sip.digest import DigestAlgorithm, DigestChallenge
from softswitch.store import SecurityEventKind
from tests.registrar.client import Phone, challenge_of
from tests.registrar.conftest import PASSWORDS
from tests.sipclient import TcpPeer, UdpPeer


def contacts_of(response: object) -> list[str]:
    return response.headers.get_list("contact")  # type: ignore[attr-defined, no-any-return]


async def test_first_register_is_challenged_with_sha256_then_md5(udp: UdpPeer) -> None:
    phone = Phone(udp, "1001", PASSWORDS["1001"])
    response = await udp.request(phone.register_bytes())
    assert response.status == 401
    challenges = [DigestChallenge.parse(v) for v in response.headers.get_all("www-authenticate")]
    assert [c.algorithm for c in challenges] == [DigestAlgorithm.SHA256, DigestAlgorithm.MD5]
    assert all(c.qop == ("auth",) and c.opaque and c.realm == "softswitch" for c in challenges)


@pytest.mark.parametrize("algorithm", [DigestAlgorithm.SHA256, DigestAlgorithm.MD5])
async def test_register_over_udp_stores_the_nat_source(
    directory_switch: Switch, udp: UdpPeer, algorithm: DigestAlgorithm
) -> None:
    phone = Phone(udp, "1001", PASSWORDS["1001"], algorithm=algorithm)
    response = await phone.register()
    assert response.status == 200
    [contact] = contacts_of(response)
    assert contact == f"<{phone.contact_uri}>;expires=3600"
    date = parsedate_to_datetime(response.headers.get("date") or "")
    assert abs(date.timestamp() - time.time()) < 5
    assert directory_switch.location is not None
    [binding] = await directory_switch.location.contacts_for("1001")
    assert (binding.source_host, binding.source_port, binding.transport) == (
        "127.0.0.1", udp.local[1], "UDP")
    assert binding.user_agent == "TestPhone/1.0"


async def test_register_over_tcp_keeps_the_connection(directory_switch: Switch) -> None:
    peer = await TcpPeer.connect(directory_switch.sip_port)
    try:
        phone = Phone(peer, "1002", PASSWORDS["1002"], transport="TCP")
        response = await phone.register()
        assert response.status == 200
        assert directory_switch.location is not None
        [binding] = await directory_switch.location.contacts_for("1002")
        assert binding.transport == "TCP" and binding.connection_id is not None
        assert binding.source_port == peer.local[1]
    finally:
        peer.close()


async def test_wrong_password_unknown_and_disabled_users_fail_alike(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    outcomes = []
    for extension, password in [("1001", "wrong-password-9"), ("4711", "whatever-pass-1"),
                                ("1003", PASSWORDS["1003"])]:
        response = await Phone(udp, extension, password).register()
        outcomes.append((response.status, response.reason,
                         sorted(name for name, _ in response.headers)))
    assert outcomes[0][0] == 401
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert directory_switch.security_log is not None and directory_switch.database is not None
    await directory_switch.security_log.flush()
    events = await directory_switch.database.security_events.recent(kind=SecurityEventKind.AUTH_FAILED)
    assert {e.user for e in events} == {"1001", "4711", "1003"}
    assert all(e.source == f"127.0.0.1:{udp.local[1]}" for e in events)


async def test_registering_someone_elses_aor_is_forbidden(udp: UdpPeer) -> None:
    response = await Phone(udp, "1001", PASSWORDS["1001"]).register(to_user="1002")
    assert response.status == 403


async def test_too_short_expiry_gets_423_with_min_expires(udp: UdpPeer) -> None:
    response = await Phone(udp, "1001", PASSWORDS["1001"]).register(expires=30)
    assert response.status == 423
    assert response.headers.get("min-expires") == "60"


async def test_contact_expires_wins_over_header_and_long_ones_are_shortened(udp: UdpPeer) -> None:
    phone = Phone(udp, "1001", PASSWORDS["1001"])
    response = await phone.register(
        contacts=[f"<{phone.contact_uri}>;expires=120", "<sip:1001@10.0.0.9:5062>"],
        expires=999999,
    )
    assert response.status == 200
    assert sorted(contacts_of(response)) == sorted(
        [f"<{phone.contact_uri}>;expires=120", "<sip:1001@10.0.0.9:5062>;expires=7200"])


async def test_q_values_order_the_bindings_and_all_are_listed(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    phone = Phone(udp, "1001", PASSWORDS["1001"])
    assert (await phone.register(contacts=["<sip:1001@10.0.0.1>;q=0.2"])).status == 200
    response = await phone.register(contacts=["<sip:1001@10.0.0.2>;q=0.9"])
    assert contacts_of(response) == [
        "<sip:1001@10.0.0.2>;expires=3600;q=0.9", "<sip:1001@10.0.0.1>;expires=3600;q=0.2"]
    assert directory_switch.location is not None
    found = await directory_switch.location.contacts_for("1001")
    assert [b.contact for b in found] == ["sip:1001@10.0.0.2", "sip:1001@10.0.0.1"]


async def test_wildcard_needs_expires_zero_and_then_removes_everything(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    phone = Phone(udp, "1001", PASSWORDS["1001"])
    assert (await phone.register()).status == 200
    assert (await phone.register(contacts=["*"], expires=60)).status == 400
    assert (await phone.register(contacts=["*"])).status == 400
    response = await phone.register(contacts=["*"], expires=0)
    assert response.status == 200 and contacts_of(response) == []
    assert directory_switch.location is not None
    assert await directory_switch.location.contacts_for("1001") == []


async def test_an_older_cseq_on_the_same_call_id_is_refused(udp: UdpPeer) -> None:
    phone = Phone(udp, "1001", PASSWORDS["1001"])
    assert (await phone.register(cseq=10)).status == 200
    response = await phone.register(cseq=5)
    assert response.status == 500


async def test_path_and_outbound_instance_are_stored_and_echoed(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    phone = Phone(udp, "1001", PASSWORDS["1001"])
    instance = "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"
    response = await phone.register(
        contacts=[f'<{phone.contact_uri}>;+sip.instance="{instance}";reg-id=1'],
        extra="Path: <sip:edge.example;lr>\r\nSupported: path, outbound\r\n",
    )
    assert response.status == 200
    assert response.headers.get_list("path") == ["<sip:edge.example;lr>"]
    assert response.headers.get("require") == "outbound"
    assert directory_switch.location is not None
    [binding] = await directory_switch.location.contacts_for("1001")
    assert binding.path == ("<sip:edge.example;lr>",)
    assert (binding.instance_id, binding.reg_id) == (instance, 1)
    # The same instance and reg-id from a new address replaces the flow, not adds one.
    moved = await phone.register(
        contacts=[f'<sip:1001@10.1.1.1:5070>;+sip.instance="{instance}";reg-id=1'])
    assert [c.split(";")[0] for c in contacts_of(moved)] == ["<sip:1001@10.1.1.1:5070>"]


async def test_unregister_one_contact_with_expires_zero(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    phone = Phone(udp, "1001", PASSWORDS["1001"])
    assert (await phone.register(contacts=["<sip:1001@10.0.0.1>", "<sip:1001@10.0.0.2>"])).status == 200
    response = await phone.register(contacts=["<sip:1001@10.0.0.1>;expires=0"])
    assert contacts_of(response) == ["<sip:1001@10.0.0.2>;expires=3600"]


async def test_scanner_user_agent_is_refused_without_a_challenge(udp: UdpPeer) -> None:
    phone = Phone(udp, "1001", PASSWORDS["1001"], user_agent="friendly-scanner")
    response = await udp.request(phone.register_bytes())
    assert response.status == 403
    assert response.headers.get("www-authenticate") is None


async def test_challenge_uses_the_realm_stored_in_the_data_dir(udp: UdpPeer) -> None:
    response = await udp.request(Phone(udp, "1001", "x").register_bytes())
    assert challenge_of(response, DigestAlgorithm.MD5).realm == "softswitch"
