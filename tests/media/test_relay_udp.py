"""The bare UDP socket under RTP ports and the in-place relay, over real loopback sockets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest

from media.bridge import MediaFormat
from media.engine import MediaEngine
from media.rtp import RtpPacket
from media.udp import UdpSocket, open_udp
from tests.media.test_engine import Peer, collect, until


class Collector:
    """A receiver that copies what it is lent, as the contract says it must."""

    def __init__(self) -> None:
        self.got: list[tuple[bytes, tuple[str, int]]] = []

    def datagram_received(self, data: memoryview, addr: tuple[str, int]) -> None:
        assert isinstance(data, memoryview)
        self.got.append((bytes(data), addr))


@contextlib.asynccontextmanager
async def socket_and_sender() -> AsyncIterator[tuple[Collector, UdpSocket, socket.socket]]:
    """An RTP port (`open_udp`) with a `Collector`, and a bound sender; both closed after."""
    collector = Collector()
    udp = open_udp(asyncio.get_running_loop(), collector, "127.0.0.1", 0)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.bind(("127.0.0.1", 0))
        yield collector, udp, sender
    finally:
        sender.close()
        udp.close()


async def test_a_burst_longer_than_one_drain_arrives_whole_and_in_order() -> None:
    async with socket_and_sender() as (collector, udp, sender):
        dest = udp.get_extra_info("sockname")
        for i in range(200):  # queued before the loop looks: several wake-ups' worth
            sender.sendto(i.to_bytes(2, "big") * 86, dest)
        await until(lambda: len(collector.got) == 200)
        assert [int.from_bytes(d[:2], "big") for d, _ in collector.got] == list(range(200))
        assert {addr for _, addr in collector.got} == {sender.getsockname()}
        assert all(len(d) == 172 for d, _ in collector.got)


async def test_a_flooded_port_does_not_starve_the_others() -> None:
    """Ports are read a datagram a round: the quiet ports' packets come in the first rounds,
    long before a flood queued ahead of them on another port is read out."""
    loop = asyncio.get_running_loop()
    flooded, quiet = Collector(), [Collector() for _ in range(20)]
    ports = [open_udp(loop, c, "127.0.0.1", 0) for c in (flooded, *quiet)]
    order: list[int] = []
    for i, port in enumerate(ports):
        port.retarget(_Tagged(i, order, (flooded, *quiet)[i]))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        for n in range(150):  # queued before the loop looks
            sender.sendto(n.to_bytes(2, "big"), ports[0].get_extra_info("sockname"))
        for port in ports[1:]:
            sender.sendto(b"hello", port.get_extra_info("sockname"))
        await until(lambda: len(flooded.got) == 150 and all(c.got for c in quiet))
        last_quiet = max(i for i, tag in enumerate(order) if tag != 0)
        assert last_quiet < 20 + 16  # at worst one round's flood datagram before each
        assert [int.from_bytes(d, "big") for d, _ in flooded.got] == list(range(150))
    finally:
        sender.close()
        for port in ports:
            port.close()


async def test_a_receiver_that_fails_or_closes_every_port_stops_nothing_else() -> None:
    """A sink raising is reported to the loop and the other ports still get their packets;
    a sink closing the last port (a call ending on a packet) leaves the loop working, and
    ports opened afterwards are read as before."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    good = Collector()
    ports: list[UdpSocket] = []

    class Failing:
        def datagram_received(self, data: memoryview, addr: tuple[str, int]) -> None:
            raise RuntimeError("sink bug")

    class Closing:
        def datagram_received(self, data: memoryview, addr: tuple[str, int]) -> None:
            for port in ports:
                port.close()

    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    try:
        ports += [open_udp(loop, Failing(), "127.0.0.1", 0), open_udp(loop, good, "127.0.0.1", 0)]
        for port in ports:
            sender.sendto(b"x", port.get_extra_info("sockname"))
        await until(lambda: bool(good.got) and bool(errors))
        assert "sink bug" in str(errors[0]["exception"])
        for port in ports:
            port.close()
        ports[:] = [open_udp(loop, Closing(), "127.0.0.1", 0), open_udp(loop, good, "127.0.0.1", 0)]
        sender.sendto(b"y", ports[0].get_extra_info("sockname"))
        await until(lambda: all(p.is_closing() for p in ports))
        again = Collector()
        fresh = open_udp(loop, again, "127.0.0.1", 0)
        try:
            sender.sendto(b"z", fresh.get_extra_info("sockname"))
            await until(lambda: again.got == [(b"z", sender.getsockname())])
        finally:
            fresh.close()
    finally:
        loop.set_exception_handler(None)
        sender.close()
        for port in ports:
            port.close()


class _Tagged:
    """Records which port each datagram came in on, in arrival order, then collects it."""

    def __init__(self, tag: int, order: list[int], collector: Collector) -> None:
        self.tag, self.order, self.collector = tag, order, collector

    def datagram_received(self, data: memoryview, addr: tuple[str, int]) -> None:
        self.order.append(self.tag)
        self.collector.datagram_received(data, addr)


async def test_a_closed_socket_stops_delivering_and_frees_its_port() -> None:
    loop = asyncio.get_running_loop()
    collector = Collector()
    udp = open_udp(loop, collector, "127.0.0.1", 0)
    host, port = udp.get_extra_info("sockname")
    assert isinstance(udp.get_extra_info("socket"), socket.socket)
    udp.close()
    udp.close()  # idempotent
    assert udp.is_closing()
    again = open_udp(loop, collector, host, port)  # the port is free again at once
    try:
        assert again.get_extra_info("sockname") == (host, port)
    finally:
        again.close()
    with pytest.raises(OSError):  # a port in use is refused, not shared
        taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            taken.bind(("127.0.0.1", 0))
            open_udp(loop, collector, "127.0.0.1", taken.getsockname()[1])
        finally:
            taken.close()


async def test_a_lone_leg_keeps_its_own_copy_of_each_payload(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    """The receive buffer is reused for the next datagram: whatever a sink keeps (here the
    jitter buffer) must not change when later packets arrive."""
    alice = peers[0]
    a = await engine.open_leg(remote=alice.addr)
    for i in range(5):
        alice.send(a.stream.local, bytes([i]) * 160)
    await until(lambda: a.stream.packets_received == 5)
    kept = []
    for _ in range(5):
        item = a.jitter.get(asyncio.get_running_loop().time() + 1.0)
        assert isinstance(item, RtpPacket)
        kept.append(item.payload)
    assert kept == [bytes([i]) * 160 for i in range(5)]
    assert all(type(p) is bytes for p in kept)


async def test_a_relayed_leg_drops_strangers_and_malformed_datagrams_over_real_sockets(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    alice, bob, intruder = peers[:3]
    a = await engine.open_leg(MediaFormat("PCMU", 0), remote=alice.addr)
    b = await engine.open_leg(MediaFormat("PCMU", 0), remote=bob.addr)
    assert engine.bridge(a, b).relaying
    alice.send(a.stream.local, b"\x11" * 160)  # latches alice
    first = await collect(bob, 1)
    intruder.send(a.stream.local, b"\x66" * 160)  # RTP bleed attempt
    alice.sock.sendto(b"\x80\x00", a.stream.local)  # shorter than a header
    alice.sock.sendto(b"\x40" + bytes(171), a.stream.local)  # RTP version 1
    oversized = RtpPacket(0, 7, 7, alice.ssrc, b"\x33" * 4000).serialize()
    alice.sock.sendto(oversized, a.stream.local)  # cut by the receive buffer: never relayed
    alice.send(a.stream.local, b"\x22" * 160)
    await until(lambda: a.stream.packets_received == 2)
    rest = await collect(bob, 1)
    assert [p.payload for p in first + rest] == [b"\x11" * 160, b"\x22" * 160]
    assert await collect(bob, 1, timeout=0.1) == []  # nothing else got through
    stats = engine.stats(a)
    assert (stats.foreign, stats.malformed, stats.packets_received) == (1, 3, 2)
    out = first + rest
    assert {p.ssrc for p in out} == {b.stream.sender.ssrc}
    assert out[1].sequence_number == (out[0].sequence_number + 1) & 0xFFFF
    assert engine.stats(b).packets_sent == 2
    assert stats.receiver is not None and stats.receiver.packets_received == 2


async def test_a_send_the_kernel_refuses_loses_the_packet_and_nothing_else(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    """The bare socket's sendto raises (here EACCES: broadcast without SO_BROADCAST); the
    relay and the other senders drop that packet and carry on with the next."""
    alice, bob = peers[:2]
    a = await engine.open_leg(remote=alice.addr)
    b = await engine.open_leg(remote=("255.255.255.255", 9))
    assert engine.bridge(a, b).relaying
    with pytest.raises(PermissionError):
        b.stream.transport.sendto(b"x", ("255.255.255.255", 9))  # type: ignore[union-attr]
    alice.send(a.stream.local, b"\x01" * 160)
    await until(lambda: a.stream.packets_received == 1)
    b.stream.send_payload(b"\x02" * 160, 0, 160, 1.0)  # the non-relay send path too
    assert b.stream.send_rtcp_report(1.0, 0.0) is None  # muxed RTCP, same socket
    assert engine.stats(b).packets_sent == 0
    engine.configure(b, remote=bob.addr)
    alice.send(a.stream.local, b"\x03" * 160)
    got = await collect(bob, 1)
    assert [p.payload for p in got] == [b"\x03" * 160]


async def test_relay_stops_and_starts_again_with_the_bridge_over_real_sockets(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    alice, bob = peers[:2]
    a = await engine.open_leg(remote=alice.addr)
    b = await engine.open_leg(remote=bob.addr)
    bridge = engine.bridge(a, b)
    alice.send(a.stream.local, b"\x01" * 160)
    assert [p.payload for p in await collect(bob, 1)] == [b"\x01" * 160]
    await engine.close_bridge(bridge)
    alice.send(a.stream.local, b"\x02" * 160)
    await until(lambda: a.stream.packets_received == 2)
    assert await collect(bob, 1, timeout=0.1) == []  # no longer relayed: a's own intake
    engine.bridge(a, b)
    alice.send(a.stream.local, b"\x03" * 160)
    assert [p.payload for p in await collect(bob, 1)] == [b"\x03" * 160]


async def test_an_idle_poller_listens_again_and_the_next_datagram_still_arrives() -> None:
    """Empty polls keep the 1 ms timer for a few rounds only: an idle switch must not poll
    forever, and a datagram after the quiet spell wakes it as the first one did."""
    async with socket_and_sender() as (collector, udp, sender):
        dest = udp.get_extra_info("sockname")
        poller = udp._poller
        sender.sendto(b"first", dest)
        await until(lambda: len(collector.got) == 1)
        await until(lambda: poller._listening and poller._timer is None)
        sender.sendto(b"second", dest)
        await until(lambda: len(collector.got) == 2)
        assert [d for d, _ in collector.got] == [b"first", b"second"]
