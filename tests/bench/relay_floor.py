"""Benchmark: the media engine's relay against the floor of any one-process Python relay.

Three forwarders carry the same load in turn, alternating for several rounds, each in this
process: a minimal uvloop ``DatagramProtocol`` forwarder, a minimal bare-socket forwarder
(``add_reader``, ``recvfrom_into`` one buffer, ``sendto``; what media/udp.py does) and the
engine relaying two-party calls (media/stream.py + media/bridge.py ``RelayPath``). The load
generator (tests/bench/rtpload.py, another process) plays both phones of every call at
50 packets/s each way. The figure is CPU time of this process per packet received, the
median of the rounds: it survives a busy machine far better than a pass/fail step does.

    .venv/bin/python -m tests.bench.relay_floor [--calls 200] [--rounds 3] [--seconds 3]
        [--only engine_relay]

``--only`` measures one forwarder (comparing two trees' engines, alternating runs of each).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
from collections.abc import Callable

from media.bridge import Leg
from media.engine import MediaEngine
from tests.bench.rtpload import LoadGenerator, cpu_seconds, run_on_fastest_loop

Address = tuple[str, int]
Forwarder = tuple[list[Address], Callable[[], int], Callable[[], object]]


class _Forward(asyncio.DatagramProtocol):
    """One port of the uvloop forwarder: what arrives goes to the partner port's phone."""

    def __init__(self) -> None:
        self.count = 0
        self.transport: asyncio.DatagramTransport | None = None
        self.partner: _Forward | None = None
        self.phone: Address = ("127.0.0.1", 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.count += 1
        partner = self.partner
        assert partner is not None and partner.transport is not None
        partner.transport.sendto(data, partner.phone)


async def _uvloop_forwarder(phones: list[Address]) -> Forwarder:
    loop = asyncio.get_running_loop()
    ports: list[_Forward] = []
    for phone in phones:
        _, port = await loop.create_datagram_endpoint(_Forward, local_addr=("127.0.0.1", 0))
        port.phone = phone
        ports.append(port)
    for i, port in enumerate(ports):
        port.partner = ports[i ^ 1]
    dests = [p.transport.get_extra_info("sockname") for p in ports]  # type: ignore[union-attr]

    def close() -> None:
        for p in ports:
            assert p.transport is not None
            p.transport.close()

    return dests, lambda: sum(p.count for p in ports), close


async def _socket_forwarder(phones: list[Address]) -> Forwarder:
    loop = asyncio.get_running_loop()
    socks = []
    for _ in phones:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    count = [0]
    for i, s in enumerate(socks):
        buf = bytearray(2048)
        view = memoryview(buf)

        def readable(
            recv: Callable = s.recvfrom_into,
            send: Callable = socks[i ^ 1].sendto,
            phone: Address = phones[i ^ 1],
            buf: bytearray = buf,
            view: memoryview = view,
        ) -> None:
            for _ in range(64):
                try:
                    n, _addr = recv(buf)
                except BlockingIOError:
                    return
                count[0] += 1
                send(view[:n], phone)

        loop.add_reader(s.fileno(), readable)

    def close() -> None:
        for s in socks:
            loop.remove_reader(s.fileno())
            s.close()

    return [s.getsockname() for s in socks], lambda: count[0], close


async def _engine_relay(phones: list[Address]) -> Forwarder:
    engine = MediaEngine(port_range=(20000, 60000), rtcp_mux=True)
    await engine.start()
    legs: list[Leg] = []
    for i in range(0, len(phones), 2):
        a = await engine.open_leg(remote=phones[i])
        b = await engine.open_leg(remote=phones[i + 1])
        assert engine.bridge(a, b).relaying
        legs += [a, b]
    return (
        [leg.stream.local for leg in legs],
        lambda: sum(leg.stream.packets_received for leg in legs),
        engine.close,
    )


FORWARDERS = {
    "uvloop_protocol": _uvloop_forwarder,
    "bare_socket": _socket_forwarder,
    "engine_relay": _engine_relay,
}


async def measure(
    calls: int, rounds: int, seconds: float, only: list[str] | None = None
) -> dict[str, object]:
    load = os.getloadavg()[0]
    generator = LoadGenerator()
    forwarders = {name: make for name, make in FORWARDERS.items() if not only or name in only}
    figures: dict[str, list[float]] = {name: [] for name in forwarders}
    try:
        phones = await generator.open(2 * calls)
        for _ in range(rounds):
            for name, make in forwarders.items():
                dests, count, close = await make(phones)
                cpu0, n0 = cpu_seconds(), count()
                await generator.run(dests, warmup=0.5, seconds=seconds, mode="relay")
                packets = count() - n0
                cpu = cpu_seconds() - cpu0
                done = close()
                if asyncio.iscoroutine(done):
                    await done
                await asyncio.sleep(0.2)  # late packets of this forwarder die here
                figures[name].append(round(cpu * 1e6 / packets, 2) if packets else float("nan"))
                print(f"# {name}: {figures[name][-1]} us/packet", flush=True)
    finally:
        await generator.close()
    medians = {name: statistics.median(v) for name, v in figures.items()}
    over = None
    if "engine_relay" in medians and "bare_socket" in medians:
        over = round(medians["engine_relay"] - medians["bare_socket"], 2)
    return {
        "benchmark": "relay_floor",
        "calls": calls,
        "packets_per_second": calls * 100,
        "loadavg_at_start": round(load, 2),
        "us_per_packet_median": medians,
        "us_per_packet_runs": figures,
        "engine_over_bare_socket_us": over,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--only", action="append", choices=sorted(FORWARDERS))
    args = parser.parse_args()
    print(json.dumps(run_on_fastest_loop(
        measure(args.calls, args.rounds, args.seconds, args.only))))


if __name__ == "__main__":
    main()
