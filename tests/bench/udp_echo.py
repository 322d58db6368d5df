"""The floor under any Python media relay: CPU per packet of a bare uvloop UDP echo.

An echo server with no logic at all runs in this process; a child process sends RTP-sized
datagrams at a fixed rate and counts the echoes. CPU seconds of this process divided by the
packets it echoed is what one packet costs Python + uvloop + the kernel here, before any relay
work (the relay benchmark's per-packet cost is compared against it in docs/benchmarks.md).

    .venv/bin/python -m tests.bench.udp_echo [--rate 40000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import socket
import time

from tests.bench.rtpload import cpu_seconds, run_on_fastest_loop

PAYLOAD = bytes(172)  # 12-byte RTP header + 160 bytes of G.711: one 20 ms packet


class _Echo(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.echoed = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(data, addr)
        self.echoed += 1


def _sender(port: int, rate: int, seconds: float, result: mp.Queue) -> None:
    """Send at `rate` packets/s for `seconds` (paced in 1 ms batches); count the echoes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    start = time.monotonic()
    sent = received = 0
    per_ms = max(1, rate // 1000)
    while (now := time.monotonic()) - start < seconds:
        due = int((now - start) * rate)
        while sent < due:
            for _ in range(min(per_ms, due - sent)):
                sock.send(PAYLOAD)
                sent += 1
        try:
            while True:
                sock.recv(2048)
                received += 1
        except BlockingIOError:
            pass
        time.sleep(0.0005)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        try:
            sock.recv(2048)
            received += 1
        except BlockingIOError:
            time.sleep(0.001)
    result.put((sent, received))


async def measure(rate: int, seconds: float) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    transport, echo = await loop.create_datagram_endpoint(_Echo, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    context = mp.get_context("spawn")
    result: mp.Queue = context.Queue()
    child = context.Process(target=_sender, args=(port, rate, seconds, result))
    cpu_before, echoed_before = cpu_seconds(), echo.echoed
    child.start()
    while child.is_alive():
        await asyncio.sleep(0.1)
    cpu = cpu_seconds() - cpu_before
    sent, received = result.get(timeout=5)
    child.join(5)
    transport.close()
    echoed = echo.echoed - echoed_before
    return {
        "benchmark": "udp_echo",
        "rate_offered": rate,
        "sent": sent,
        "echoed": echoed,
        "received_back": received,
        "server_cpu_s": round(cpu, 3),
        "us_per_packet": round(cpu / echoed * 1e6, 2) if echoed else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=40000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(json.dumps(run_on_fastest_loop(measure(args.rate, args.seconds))))


if __name__ == "__main__":
    main()
