"""Socket pairs kept bound between calls (media/socketpool.py), over loopback: a reused port
starts clean, refuses the previous call's peer, and the pool stays within its bounds."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from media.bridge import MediaFormat
from media.engine import MediaEngine
from media.socketpool import SocketPool
from media.stream import open_stream
from tests.media.test_engine import Peer, collect, until
from tests.process import free_port


@pytest.fixture
async def pooled() -> AsyncIterator[MediaEngine]:
    eng = MediaEngine(port_range=None, run_clock=False, socket_pool=4)
    await eng.start()
    yield eng
    await eng.close()


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def test_a_reused_port_drops_the_previous_calls_peer_and_starts_clean(
    pooled: MediaEngine, peers: list[Peer]
) -> None:
    old_peer, old_other, new_peer, new_other = peers
    pcmu = MediaFormat("PCMU", 0)
    a = await pooled.open_leg(pcmu, remote=old_peer.addr)
    b = await pooled.open_leg(pcmu, remote=old_other.addr)
    pooled.bridge(a, b)
    old_peer.send(a.stream.local, b"\x01" * 160)
    assert len(await collect(old_other, 1)) == 1  # the first call relays
    port, old_ssrc = a.stream.local[1], a.stream.sender.ssrc
    await pooled.close_leg(a)
    await pooled.close_leg(b)
    for _ in range(3):  # the old phone goes on streaming while the pair is idle
        old_peer.send(("127.0.0.1", port), b"\x02" * 160)

    # the longest idle pair comes back first: the old call's A leg port
    c = await pooled.open_leg(pcmu, remote=new_peer.addr)
    d = await pooled.open_leg(pcmu, remote=new_other.addr)
    assert c.stream.local[1] == port
    pooled.bridge(c, d)
    stats = c.stream.stats()
    assert (stats.packets_received, stats.foreign, stats.latched) == (0, 0, False)
    assert c.stream.sender.ssrc != old_ssrc and stats.packets_sent == 0

    for _ in range(3):  # the old phone still streams after the port was reused
        old_peer.send(c.stream.local, b"\x03" * 160)
    await until(lambda: c.stream.foreign == 3)
    assert c.stream.packets_received == 0 and not c.stream.latched
    new_peer.send(c.stream.local, b"\x04" * 160)
    got = await collect(new_other, 1)
    assert [g.payload for g in got] == [b"\x04" * 160]  # nothing of the old call relayed
    assert c.stream.stats().remote == new_peer.addr and c.stream.latched
    assert not new_other.drain()
    # the port delivers in order: the three sent while idle were drained, never seen
    assert c.stream.foreign == 3


async def test_a_phone_that_stopped_at_the_bye_may_latch_again_on_the_reused_port(
    pooled: MediaEngine, peers: list[Peer]
) -> None:
    """Behind NAT a phone's source is not its SDP address: calling again and getting the
    same port, it must still latch; only a peer that went on sending is refused."""
    phone, signalled = peers[0], peers[1]  # the second: the private address in its SDP
    a = await pooled.open_leg(MediaFormat("PCMU", 0), remote=signalled.addr)
    phone.send(a.stream.local, b"\x01" * 160)
    await until(lambda: a.stream.latched)
    assert a.stream.stats().remote == phone.addr
    port = a.stream.local[1]
    await pooled.close_leg(a)  # the phone stops at the BYE: nothing while the pair is idle
    again = await pooled.open_leg(MediaFormat("PCMU", 0), remote=signalled.addr)
    assert again.stream.local[1] == port
    phone.send(again.stream.local, b"\x02" * 160)
    await until(lambda: again.stream.latched)
    assert again.stream.stats().remote == phone.addr and again.stream.foreign == 0


async def test_signalling_may_name_the_previous_peer_again(
    pooled: MediaEngine, peers: list[Peer]
) -> None:
    """A phone still streaming when its port is reused, but named by the new call's SDP
    (the same phone calling again at once): it latches."""
    phone = peers[0]
    a = await pooled.open_leg(MediaFormat("PCMU", 0), remote=phone.addr)
    phone.send(a.stream.local, b"\x01" * 160)
    await until(lambda: a.stream.latched)
    port = a.stream.local[1]
    await pooled.close_leg(a)
    phone.send(("127.0.0.1", port), b"\x01" * 160)  # still sending while the pair is idle
    again = await pooled.open_leg(MediaFormat("PCMU", 0), remote=phone.addr)
    assert again.stream.local[1] == port
    phone.send(again.stream.local, b"\x02" * 160)
    await until(lambda: again.stream.latched)
    assert again.stream.packets_received == 1 and again.stream.foreign == 0


async def test_the_pool_is_bounded_and_closes_what_it_cannot_keep() -> None:
    eng = MediaEngine(port_range=None, run_clock=False, socket_pool=1)
    await eng.start()
    try:
        legs = [await eng.open_leg() for _ in range(3)]
        ports = [leg.stream.local[1] for leg in legs]
        for leg in legs:
            await eng.close_leg(leg)
        # the first pair stays bound for the next leg; the other two were closed
        assert [_bindable(p) for p in ports] == [False, True, True]
        assert [_bindable(p + 1) for p in ports] == [False, True, True]  # their RTCP ports
    finally:
        await eng.close()
    assert _bindable(ports[0]) and _bindable(ports[0] + 1)  # stopping closes the idle ones


async def test_a_pair_closed_by_a_full_pool_goes_back_to_the_port_range() -> None:
    first = free_port() & ~1
    eng = MediaEngine(port_range=(first, first + 4), run_clock=False, socket_pool=0)
    await eng.start()
    try:
        seen = set()
        for _ in range(4):  # two even ports in the range, each reused after its release
            leg = await eng.open_leg()
            seen.add(leg.stream.local[1])
            await eng.close_leg(leg)
        assert seen <= {first, first + 2}
    finally:
        await eng.close()


async def test_a_pair_of_the_other_rtcp_mode_is_not_reused() -> None:
    pool = SocketPool(2)
    muxed = await open_stream("127.0.0.1", rtcp_mux=True)
    idle = muxed.close_keeping_sockets(bye=False)
    assert idle is not None and idle.rtcp is None
    pool.give(idle)
    stream = await open_stream("127.0.0.1", rtcp_mux=False, sockets=pool)
    try:
        assert stream.rtcp_transport is not None and len(pool) == 0
        assert _bindable(idle.port)  # closed, not leaked
    finally:
        stream.close(bye=False)


def test_a_negative_pool_size_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        SocketPool(-1)
