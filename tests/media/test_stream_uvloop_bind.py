"""Under uvloop (what `softswitch run` uses) a taken RTP port is skipped like under asyncio:
uvloop's bind error is a bare OSError whose cause holds EADDRINUSE."""

from __future__ import annotations

import socket

import uvloop

from media.stream import PortPool, open_stream
from tests.process import free_port


def test_open_stream_skips_a_port_taken_by_another_process_under_uvloop() -> None:
    async def scenario() -> int:
        first = free_port() & ~1
        blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            blocker.bind(("127.0.0.1", first))
        except OSError:
            blocker.close()
            return -1  # raced: the port went elsewhere; the caller retries
        try:
            stream = await open_stream("127.0.0.1", pool=PortPool(first, first + 20),
                                       rtcp_mux=True)
            port = stream.local[1]
            stream.close(bye=False)
            return port
        finally:
            blocker.close()

    for _ in range(5):
        loop = uvloop.new_event_loop()
        try:
            port = loop.run_until_complete(scenario())
        finally:
            loop.close()
        if port != -1:
            break
    assert port > 0 and port % 2 == 0


def test_a_taken_block_of_ports_is_left_by_jumping_elsewhere() -> None:
    """Another process holding the first 40 ports of the range (its own pool starts there
    too) does not exhaust the bounded bind attempts: after a taken port the pool jumps."""

    async def scenario() -> int:
        first = 40000
        blockers = []
        try:
            for port in range(first, first + 80):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    sock.close()
                    continue
                blockers.append(sock)
            stream = await open_stream("127.0.0.1", pool=PortPool(first, first + 2000))
            port = stream.local[1]
            stream.close(bye=False)
            return port
        finally:
            for sock in blockers:
                sock.close()

    loop = uvloop.new_event_loop()
    try:
        port = loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert 40080 <= port < 42000
