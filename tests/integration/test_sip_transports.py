"""SIP over real loopback sockets against an in-process switch: answers, refusals, framing."""

from __future__ import annotations

import asyncio

from softswitch.app import Switch
from tests.sipclient import TcpPeer, UdpPeer, options_request, request_bytes


async def test_options_over_udp_gets_200_with_capabilities(switch: Switch) -> None:
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        response = await peer.request(options_request(local=peer.local))
    finally:
        peer.close()
    assert response.status == 200
    allow = response.headers.get("allow") or ""
    assert "OPTIONS" in allow and "ACK" in allow
    assert response.headers.get("accept") == "application/sdp"
    assert "path" in (response.headers.get("supported") or "")
    assert response.to.tag, "a final response carries a To tag"
    via = response.top_via
    assert via.params["received"] == "127.0.0.1"
    assert via.params["rport"] == str(peer.local[1])


async def test_options_over_tcp_and_several_messages_on_one_connection(switch: Switch) -> None:
    peer = await TcpPeer.connect(switch.sip_port)
    try:
        first = options_request(local=peer.local, transport="TCP")
        second = options_request(local=peer.local, transport="TCP")
        peer.send(first + second)  # two messages in one segment
        responses = [await peer.receive(), await peer.receive()]
    finally:
        peer.close()
    assert [r.status for r in responses] == [200, 200]
    assert responses[0].call_id != responses[1].call_id


async def test_message_split_across_tcp_segments(switch: Switch) -> None:
    peer = await TcpPeer.connect(switch.sip_port)
    try:
        data = options_request(local=peer.local, transport="TCP", body=b"x" * 10,
                               extra="Content-Type: text/plain\r\n")
        for i in range(0, len(data), 7):
            peer.send(data[i : i + 7])
            await asyncio.sleep(0)
        response = await peer.receive()
    finally:
        peer.close()
    assert response.status == 200


async def test_unknown_method_gets_405_with_allow(switch: Switch) -> None:
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        response = await peer.request(request_bytes("FROBNICATE", local=peer.local))
    finally:
        peer.close()
    assert response.status == 405
    assert "OPTIONS" in (response.headers.get("allow") or "")


async def test_refusals_carry_the_right_status(switch: Switch) -> None:
    cases = [
        (request_bytes(version="SIP/7.0"), 505),
        (request_bytes(uri="mailto:someone@example.com"), 416),
        (request_bytes(extra="Require: nonexistent-extension\r\n"), 420),
        (request_bytes("INVITE", extra="").replace(b"Max-Forwards: 70", b"Max-Forwards: 0"), 483),
        (request_bytes(cseq_method="INVITE"), 400),
    ]
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        for data, status in cases:
            response = await peer.request(data)
            assert response.status == status, (data, response.status, response.reason)
    finally:
        peer.close()


async def test_an_invite_needs_a_contact_and_only_register_may_use_a_star(
    switch: Switch,
) -> None:
    """Without a Contact the call's dialog has no remote target (RFC 3261 8.1.1.8); it used
    to fail inside the B2BUA and be answered 500."""
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        bare = await peer.request(request_bytes("INVITE", uri="sip:1002@127.0.0.1"))
        star = await peer.request(request_bytes("INVITE", extra="Contact: *\r\n"))
        options = await peer.request(request_bytes(extra="Contact: *\r\n"))
    finally:
        peer.close()
    assert (bare.status, bare.reason) == (400, "Missing Contact")
    for response in (star, options):
        assert response.status == 400 and "'*' is for REGISTER only" in response.reason


async def test_unsupported_require_lists_the_tag(switch: Switch) -> None:
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        response = await peer.request(request_bytes(extra="Require: foo, path\r\n"))
    finally:
        peer.close()
    assert response.status == 420
    assert response.headers.get("unsupported") == "foo"


async def test_bad_request_reason_says_what_is_wrong(switch: Switch) -> None:
    data = request_bytes().replace(b"CSeq: 1 OPTIONS", b"CSeq: one OPTIONS")
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        response = await peer.request(data)
    finally:
        peer.close()
    assert response.status == 400
    assert "CSeq" in response.reason


async def test_garbage_and_stray_responses_are_dropped_and_switch_keeps_working(
    switch: Switch,
) -> None:
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        for junk in (b"\x00\xff" * 100, b"hello world\r\n\r\n", b"SIP/2.0 200 OK\r\n\r\n",
                     b"INVITE\r\n\r\n", b"\r\n\r\n"):
            peer.send(junk)
        await peer.expect_silence(0.3)
        response = await peer.request(options_request(local=peer.local))
    finally:
        peer.close()
    assert response.status == 200
    assert switch.metrics.parse_errors["dropped"] >= 3


async def test_oversized_udp_request_gets_513(switch: Switch) -> None:
    body = b"v=0\r\n" + b"a=x-padding:" + b"y" * 70000 + b"\r\n"
    data = request_bytes(body=body, extra="Content-Type: application/sdp\r\n")
    limit = switch.config.sip.max_udp_bytes
    assert len(data) > limit
    switch.transports.filter.max_udp_bytes = 4000  # keep the datagram under the kernel limit
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        response = await peer.request(data[:3000] + b"\r\n" + body[:2000])
        big = request_bytes(body=b"z" * 5000, extra="Content-Type: text/plain\r\n")
        response = await peer.request(big)
    finally:
        peer.close()
    assert response.status == 513


async def test_tcp_without_content_length_gets_400_and_is_closed(switch: Switch) -> None:
    peer = await TcpPeer.connect(switch.sip_port)
    data = options_request(transport="TCP").replace(b"Content-Length: 0\r\n", b"")
    try:
        response = await peer.request(data)
        assert response.status == 400
        assert "Content-Length" in response.reason
        assert await peer.closed_by_peer()
    finally:
        peer.close()


async def test_tcp_oversized_header_block_is_refused_and_closed(switch: Switch) -> None:
    peer = await TcpPeer.connect(switch.sip_port)
    try:
        peer.send(b"OPTIONS sip:a@b SIP/2.0\r\nX-Junk: " + b"a" * 40000)
        assert await peer.closed_by_peer()
    finally:
        peer.close()


async def test_tcp_keepalive_ping_gets_pong(switch: Switch) -> None:
    peer = await TcpPeer.connect(switch.sip_port)
    try:
        peer.send(b"\r\n\r\n")
        pong = await asyncio.wait_for(peer.reader.readexactly(2), 2)
        assert pong == b"\r\n"
        response = await peer.request(options_request(transport="TCP"))
        assert response.status == 200
    finally:
        peer.close()


async def test_slow_partial_message_connection_is_closed(switch: Switch) -> None:
    """A peer that starts a message and never finishes it is cut off (tcp_partial_timeout=1s)."""
    peer = await TcpPeer.connect(switch.sip_port)
    try:
        peer.send(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP x")
        assert await peer.closed_by_peer(timeout=5)
    finally:
        peer.close()


async def test_many_datagrams_do_not_block_other_traffic(switch: Switch) -> None:
    flood = await UdpPeer.connect(switch.sip_port)
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        for _ in range(500):
            flood.send(b"\x16\x03\x01garbage")
        response = await peer.request(options_request(local=peer.local))
    finally:
        flood.close()
        peer.close()
    assert response.status == 200
