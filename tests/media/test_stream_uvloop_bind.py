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
