"""RTP stream endpoint: latching, strict source checks, malformed packets, RTCP, sockets."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

import pytest

from media.rtcp import ReceiverReport, ReportBlock, SenderReport, parse_rtcp, serialize_rtcp
from media.rtp import RtpPacket
from media.stream import NoFreePortError, PortPool, RtpSender, RtpStream, open_stream, rtp_payload

PEER = ("10.0.0.5", 40000)
INTRUDER = ("10.0.0.66", 40000)


class FakeTransport:
    def __init__(self, sockname: tuple[str, int] = ("127.0.0.1", 20000)) -> None:
        self.sent: list[tuple[bytes, Any]] = []
        self.sockname = sockname
        self.closed = False

    def sendto(self, data: bytes, addr: Any) -> None:
        self.sent.append((bytes(data), addr))

    def get_extra_info(self, name: str) -> Any:
        return self.sockname if name == "sockname" else None

    def close(self) -> None:
        self.closed = True


def rtp(
    seq: int = 1, pt: int = 0, ssrc: int = 0x1234, payload: bytes = b"\xff" * 160, **kw: Any
) -> bytes:
    return RtpPacket(pt, seq, seq * 160, ssrc, payload, **kw).serialize()


def make_stream(**kw: Any) -> tuple[RtpStream, FakeTransport, list[tuple[Any, ...]]]:
    now = [0.0]
    stream = RtpStream(time=lambda: now[0], **kw)
    transport = FakeTransport()
    stream.connection_made(transport)  # type: ignore[arg-type]
    received: list[tuple[Any, ...]] = []
    stream.on_audio = lambda *args: received.append(args)
    return stream, transport, received


def test_first_valid_packet_latches_and_later_strangers_are_dropped() -> None:
    stream, transport, received = make_stream()
    stream.set_remote(("192.168.1.9", 30000))  # SDP says a private address (NAT)
    stream.datagram_received(rtp(1), PEER)
    assert stream.latched and stream.remote == PEER
    stream.datagram_received(rtp(2), INTRUDER)
    stream.datagram_received(rtp(3), (PEER[0], PEER[1] + 2))  # same host, other port
    stream.datagram_received(rtp(4), PEER)
    assert [r[2] for r in received] == [1, 4]
    assert stream.stats().foreign == 2
    stream.send_payload(b"\x00" * 160, 0, 160, now=0.0)
    assert transport.sent[-1][1] == PEER  # symmetric RTP: answer where it came from


def test_malformed_datagrams_are_counted_not_latched_and_not_delivered() -> None:
    stream, _, received = make_stream()
    bad = [
        b"",
        b"\x80\x00",  # too short
        b"\x40" + rtp()[1:],  # RTP version 1
        bytes([0x82]) + rtp()[1:12],  # two CSRCs announced, none present
        bytes([0x90]) + rtp(payload=b"")[1:] + b"\x00\x01\x00\x05",  # extension overruns
        bytes([0xA0]) + rtp(payload=b"\x01\x02")[1:] + b"\x09",  # padding longer than packet
    ]
    for data in bad:
        stream.datagram_received(data, INTRUDER)
    assert stream.malformed == len(bad)
    assert not stream.latched and received == []
    stream.datagram_received(rtp(7, csrc=(5, 6)), PEER)  # a valid packet with CSRCs passes
    assert len(received) == 1 and rtp_payload(received[0][0]) == b"\xff" * 160


def test_set_remote_unlatches_for_a_new_offer() -> None:
    stream, _, received = make_stream()
    stream.datagram_received(rtp(1), PEER)
    stream.set_remote(INTRUDER)
    stream.datagram_received(rtp(2), INTRUDER)
    stream.datagram_received(rtp(3), PEER)
    assert [r[2] for r in received] == [1, 2]
    assert stream.remote == INTRUDER


def test_event_payload_type_goes_to_the_event_sink() -> None:
    stream, _, audio = make_stream()
    events: list[int] = []
    stream.event_payload_type = 101
    stream.on_event = lambda data, pt, *rest: events.append(pt)
    stream.datagram_received(rtp(1, pt=101, payload=b"\x01\x0a\x00\xa0"), PEER)
    stream.datagram_received(rtp(2), PEER)
    assert events == [101] and len(audio) == 1


def test_receiver_statistics_count_loss() -> None:
    stream, _, _ = make_stream()
    for seq in (1, 2, 3, 5, 6):
        stream.datagram_received(rtp(seq), PEER)
    rx = stream.stats().receiver
    assert rx is not None
    assert (rx.packets_received, rx.packets_expected, rx.cumulative_lost) == (5, 6, 1)


def test_muxed_rtcp_from_the_peer_is_parsed_and_reports_kept() -> None:
    stream, _, _ = make_stream(rtcp_mux=True)
    stream.datagram_received(rtp(1), PEER)
    block = ReportBlock(stream.sender.ssrc, 12, 3, 100, 40)
    stream.datagram_received(serialize_rtcp([ReceiverReport(0x1234, (block,))]), PEER)
    stats = stream.stats()
    assert stats.rtcp_received == 1 and stats.remote_report == block
    assert stats.malformed == 0


def test_rtcp_report_is_sr_after_sending_and_carries_a_block() -> None:
    stream, transport, _ = make_stream(rtcp_mux=True)
    stream.datagram_received(rtp(1), PEER)
    assert stream.send_rtcp_report(0.0, 1_700_000_000.0) is not None
    first = parse_rtcp(transport.sent[-1][0])[0]
    assert isinstance(first, ReceiverReport) and first.reports[0].ssrc == 0x1234
    stream.send_payload(b"\x00" * 160, 0, 160, now=0.0)
    stream.send_rtcp_report(0.02, 1_700_000_000.0)
    report = parse_rtcp(transport.sent[-1][0])[0]
    assert isinstance(report, SenderReport) and report.packet_count == 1


def test_sender_is_continuous_and_jumps_timestamps_over_silence() -> None:
    sender = RtpSender(8000, ssrc=7)
    h1 = sender.header(0, 160, now=1.0)
    h2 = sender.header(0, 160, now=1.021)  # scheduling jitter: still contiguous
    h3 = sender.header(0, 160, now=3.021)  # two seconds of silence
    (b1, s1, t1, _), (b2, s2, t2, _), (b3, s3, t3, _) = (
        struct.unpack("!xBHII", h) for h in (h1, h2, h3)
    )
    assert (s2 - s1) % 65536 == 1 and (s3 - s2) % 65536 == 1
    assert (t2 - t1) % 2**32 == 160
    assert (t3 - t2) % 2**32 == 16000
    assert b1 & 0x80 and not b2 & 0x80 and b3 & 0x80  # marker on each new talkspurt


def test_port_pool_hands_out_even_ports_round_robin() -> None:
    pool = PortPool(10001, 10008)
    ports = [pool.take() for _ in range(3)]
    assert ports == [10002, 10004, 10006]
    with pytest.raises(NoFreePortError):
        pool.take()
    pool.release(10004)
    assert pool.take() == 10004


async def test_loopback_stream_latches_echoes_and_closes() -> None:
    stream = await open_stream("127.0.0.1")
    got: list[bytes] = []
    done = asyncio.Event()

    def on_audio(data: bytes, pt: int, seq: int, ts: int, ssrc: int) -> None:
        got.append(rtp_payload(data))
        stream.send_payload(rtp_payload(data), pt, 160, asyncio.get_running_loop().time())
        done.set()

    stream.on_audio = on_audio
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        peer.bind(("127.0.0.1", 0))
        peer.setblocking(False)
        peer.sendto(rtp(9, payload=b"\x11" * 160), stream.local)
        await asyncio.wait_for(done.wait(), 2.0)
        loop = asyncio.get_running_loop()
        echoed = await asyncio.wait_for(loop.sock_recv(peer, 2048), 2.0)
        assert RtpPacket.parse(echoed).payload == b"\x11" * 160
        assert stream.stats().latched and stream.rtcp_transport is not None
    finally:
        stream.close()
        peer.close()
    assert stream.closed
