"""Benchmark: the relay's own CPU per packet, in one process, without a load generator.

tests.bench.relay_floor measures the relay under a live load, which on a shared 2-core
machine moves by a microsecond or two from run to run: more than a code change saves. This
one queues one RTP packet on each of ``--batch`` engine ports from plain sockets of this
process (the phones), then times one poll of the media engine's poller (media/udp.py) by
this thread's CPU clock: the reads, the stream's checks and statistics, the relay's header
rewrite and the sends, all real system calls over loopback. Between polls (untimed) the
phones drain what the relay sent them. The lower decile of the per-poll figures is the
cost with the fewest interruptions by neighbours, which is what compares two trees; the
median is printed too. Wake-ups of the event loop are not in it (relay_floor has them).

    .venv/bin/python -m tests.bench.relay_path [--calls 200] [--batch 50] [--polls 400]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import struct
import time

from media import udp
from media.engine import MediaEngine
from tests.bench.rtpload import run_on_fastest_loop

_HEADER = struct.Struct("!BBHII")
_PACKET = 172  # 12-byte header + 20 ms of G.711


def _phone() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.bind(("127.0.0.1", 0))
    return sock


async def measure(calls: int, batch: int, polls: int) -> dict[str, object]:
    load = os.getloadavg()[0]
    engine = MediaEngine(port_range=(20000, 60000), rtcp_mux=True)
    await engine.start()
    phones = [_phone() for _ in range(2 * calls)]
    legs = []
    try:
        for i in range(calls):
            a = await engine.open_leg(remote=phones[2 * i].getsockname())
            b = await engine.open_leg(remote=phones[2 * i + 1].getsockname())
            assert engine.bridge(a, b).relaying
            legs += [a, b]
        loop = asyncio.get_running_loop()
        # the poller is driven by hand below (its private ``_poll``, the same in every tree
        # since batched reads): the loop must not listen or poll on its own meanwhile
        poller = udp._pollers[loop]
        loop.remove_reader(poller._epoll.fileno())
        dests = [leg.stream.local for leg in legs]
        packet = bytearray(_PACKET)
        sink = bytearray(2048)
        per_packet: list[float] = []
        for n in range(polls):
            seq = n + 1
            first = n * batch % len(legs)
            for j in range(batch):
                k = (first + j) % len(legs)
                _HEADER.pack_into(packet, 0, 0x80, 0, seq & 0xFFFF, seq * 160 & 0xFFFFFFFF, k)
                phones[k].sendto(packet, dests[k])
            poller._listening = True  # so the poll leaves listening alone
            t0 = time.thread_time_ns()
            poller._poll()
            per_packet.append((time.thread_time_ns() - t0) / batch / 1000)
            if poller._timer is not None:
                poller._timer.cancel()
                poller._timer = None
            if poller._listening:
                loop.remove_reader(poller._epoll.fileno())
            for j in range(batch):
                k = (first + j) % len(legs) ^ 1  # the partner phone got it
                try:
                    phones[k].recv_into(sink)
                except BlockingIOError:
                    pass
        relayed = sum(leg.stream.sender.packets for leg in legs)
        poller._listen()  # closing the legs leaves it as it found it
    finally:
        await engine.close()
        for sock in phones:
            sock.close()
    per_packet.sort()
    return {
        "benchmark": "relay_path",
        "calls": calls,
        "batch": batch,
        "polls": polls,
        "relayed": relayed,
        "loadavg_at_start": round(load, 2),
        "us_per_packet_p10": round(per_packet[len(per_packet) // 10], 2),
        "us_per_packet_median": round(statistics.median(per_packet), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--polls", type=int, default=400)
    args = parser.parse_args()
    print(json.dumps(run_on_fastest_loop(measure(args.calls, args.batch, args.polls))))


if __name__ == "__main__":
    main()
