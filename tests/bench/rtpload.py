"""RTP load generator for the media benchmarks, run in its own process on its own core.

Each endpoint is one UDP socket on 127.0.0.1 that sends a 20 ms PCMU packet every tick to
its engine leg and counts what comes back. Ticks follow absolute deadlines
(start + n x 20 ms) on the system-wide monotonic clock, which both processes share, so
packets can carry their send time and the receiver measures one-way latency through the
engine. The generator reports its own lateness: a late generator means the figure is
limited by the load, not by the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import os
import selectors
import socket
import struct
import time
from collections.abc import Coroutine
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

__all__ = ["LoadGenerator", "LoadReport", "cpu_seconds", "pin_to_core"]

TICK = 0.020
_SLOTS = 10
_POLL_SLEEP = 0.001
_HEADER = struct.Struct("!BBHII")
_SENT_AT = struct.Struct("!d")
LATE_SECONDS = 0.05  # a packet this long across the switch is too late for any jitter buffer


@dataclass(frozen=True, slots=True)
class LoadReport:
    """One measured window, as the generator saw it."""

    endpoints: int
    seconds: float
    sent: int
    received: int
    expected_received: int
    generator_late_ticks: int  # sub-slots (10 per tick) sent more than 5 ms late
    generator_slots: int
    generator_cpu: float  # fraction of one core
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    late_packets: int = 0  # relay mode: received more than LATE_SECONDS after being sent

    @property
    def generator_late_fraction(self) -> float:
        """Share of send slots the generator missed by over 5 ms (it was starved of CPU)."""
        return self.generator_late_ticks / max(1, self.generator_slots)

    @property
    def loss(self) -> float:
        """Fraction of the expected packets that never came back."""
        if self.expected_received == 0:
            return 0.0
        return max(0.0, 1.0 - self.received / self.expected_received)


T = TypeVar("T")


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every media benchmark takes: step length, warm-up, CPU pinning."""
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument(
        "--pin", action="store_true", help="pin engine to CPU 0 and generator to CPU 1"
    )


def run_on_fastest_loop(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on uvloop when installed, as `softswitch run` does."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(main)


def pin_to_core(core: int | None) -> None:
    """Keep a process on one CPU so 'per core' figures mean what they say."""
    if core is not None and hasattr(os, "sched_setaffinity") and core < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {core})


def cpu_seconds() -> float:
    """User + system CPU time of this process (all threads)."""
    t = os.times()
    return t.user + t.system


class _Endpoints:
    """The generator side: sockets, their destinations and the tick loop."""

    def __init__(self) -> None:
        self.socks: list[socket.socket] = []
        self.gaps = 0
        self.late_packets = 0
        self.last_seq: list[int] = []
        self.selector = (
            selectors.EpollSelector()
            if hasattr(selectors, "EpollSelector")
            else (selectors.DefaultSelector())
        )

    def open(self, n: int) -> list[tuple[str, int]]:
        addrs = []
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
            self.selector.register(s, selectors.EVENT_READ, len(self.socks))
            self.socks.append(s)
            addrs.append(s.getsockname())
        return addrs

    def run(
        self, dests: list[tuple[str, int]], warmup: float, seconds: float, mode: str
    ) -> LoadReport:
        socks = self.socks[: len(dests)]
        n = len(socks)
        voice = _tone_payload()
        packets = [bytearray(_HEADER.pack(0x80, 0, 0, 0, 0x10000 + i) + voice) for i in range(n)]
        sendto = [s.sendto for s in socks]
        start = time.monotonic() + 0.05
        window = (start + warmup, start + warmup + seconds)
        end = window[1]
        latencies: list[float] = []
        received = sent = late = slots_counted = 0
        self.gaps = self.late_packets = 0
        self.last_seq = [-1] * len(self.socks)
        tick = 0
        cpu0 = cpu_seconds()
        wall0 = time.monotonic()
        seq_ts = struct.Struct("!HI")
        # phones are not synchronised: spread the endpoints over the tick in sub-slots
        slots = [range(k * n // _SLOTS, (k + 1) * n // _SLOTS) for k in range(_SLOTS)]
        while True:
            base = start + tick * TICK
            if base >= end:
                break
            counting = window[0] <= base
            seq = tick & 0xFFFF
            ts = (tick * 160) & 0xFFFFFFFF
            for k, members in enumerate(slots):
                deadline = base + k * TICK / _SLOTS
                received += self._receive_until(deadline, window, mode, latencies)
                now = time.monotonic()
                slots_counted += counting
                if now - deadline > 0.005:
                    late += counting
                sent_at = _SENT_AT.pack(now)
                for i in members:
                    p = packets[i]
                    seq_ts.pack_into(p, 2, seq, ts)
                    if mode == "relay":
                        p[12:20] = sent_at
                    try:
                        sendto[i](p, dests[i])
                    except OSError:
                        continue
                    sent += counting
            tick += 1
        received += self._receive_until(end + 0.3, window, mode, latencies)
        cpu = (cpu_seconds() - cpu0) / max(1e-9, time.monotonic() - wall0)
        if mode == "relay":
            expected = sent
        else:  # a stall delays mixed frames; only sequence gaps are frames never sent
            expected = received + self.gaps
        latencies.sort()

        def pct(q: float) -> float | None:
            if not latencies:
                return None
            return round(
                latencies[min(len(latencies) - 1, math.floor(q * len(latencies)))] * 1000, 3
            )

        return LoadReport(
            n,
            seconds,
            sent,
            received,
            expected,
            late,
            slots_counted,
            round(cpu, 3),
            pct(0.5),
            pct(0.99),
            self.late_packets,
        )

    def _receive_until(
        self, deadline: float, window: tuple[float, float], mode: str, latencies: list[float]
    ) -> int:
        count = 0
        select = self.selector.select
        socks = self.socks
        relay = mode == "relay"
        unpack = _SENT_AT.unpack_from
        while True:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                return count
            # poll, then sleep: a generator blocked in epoll_wait would make every packet
            # the engine sends pay a cross-CPU wake-up (costly in a VM), which real phones
            # on other machines never charge to the switch
            ready = select(0)
            if not ready:
                time.sleep(min(timeout, _POLL_SLEEP))
                continue
            for key, _ in ready:
                sock = socks[key.data]
                for _ in range(64):
                    try:
                        data = sock.recv(2048)
                    except BlockingIOError:
                        break
                    if len(data) < 20 or 192 <= data[1] <= 223:
                        continue  # RTCP
                    if relay:
                        (sent_at,) = unpack(data, 12)
                        if window[0] <= sent_at < window[1]:
                            count += 1
                            latency = time.monotonic() - sent_at
                            if latency > LATE_SECONDS:
                                self.late_packets += 1
                            if count % 8 == 0:
                                latencies.append(latency)
                    elif window[0] <= time.monotonic() < window[1]:
                        count += 1
                        seq = (data[2] << 8) | data[3]
                        last = self.last_seq[key.data]
                        if last >= 0:
                            gap = (seq - last - 1) & 0xFFFF
                            if gap < 1000:  # frames the engine never sent (not merely late)
                                self.gaps += gap
                        self.last_seq[key.data] = seq


def _tone_payload() -> bytes:
    """20 ms of a 400 Hz tone at about -20 dBFS in PCMU: a talker the mixer really mixes."""
    import numpy as np

    from media.codecs import get_codec

    t = np.arange(160) / 8000
    return get_codec("PCMU").encode((3000 * np.sin(2 * np.pi * 400 * t)).astype(np.int16))


def _main(conn: Connection, core: int | None) -> None:
    pin_to_core(core)
    endpoints = _Endpoints()
    while True:
        command, args = conn.recv()
        if command == "open":
            conn.send(endpoints.open(*args))
        elif command == "run":
            conn.send(asdict(endpoints.run(*args)))
        else:
            conn.send(None)
            return


class LoadGenerator:
    """Parent-side handle: ``open`` endpoints, then ``run`` windows against destinations."""

    def __init__(self, core: int | None = 1) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_main, args=(child, core), daemon=True)
        self._proc.start()

    async def _call(self, command: str, *args: object) -> object:
        loop = asyncio.get_running_loop()
        self._conn.send((command, args))
        return await loop.run_in_executor(None, self._conn.recv)

    async def open(self, n: int) -> list[tuple[str, int]]:
        """Bind ``n`` more endpoints; returns their addresses in order."""
        return [tuple(a) for a in await self._call("open", n)]  # type: ignore[attr-defined]

    async def run(
        self, dests: list[tuple[str, int]], *, warmup: float, seconds: float, mode: str
    ) -> LoadReport:
        """Endpoint i sends to ``dests[i]`` for ``warmup + seconds``; the window is measured."""
        raw = await self._call("run", dests, warmup, seconds, mode)
        return LoadReport(**raw)  # type: ignore[arg-type]

    async def close(self) -> None:
        """Stop the process (bounded wait)."""
        await self._call("stop")
        self._proc.join(timeout=5)
        if self._proc.is_alive():
            self._proc.terminate()
