"""Concurrent SIP calls with media through `softswitch run`, the media from an efficient generator.

SIPp sets the calls up and tears them down (tests/bench/scenarios/rtp_uac.xml, a trunk
caller, and rtp_uas.xml, the callee extension); it sends no RTP. Each call's SDP (offer and
answer) carries a port of the load generator (tests/bench/rtpload.py, its own process on
core 1), fed to SIPp per call from an injection file (``-inf``). Once every call of a step is
answered, the generator learns each leg's switch-side RTP port from ``GET /api/calls`` (the
leg whose remote is its port) and plays both phones of every call: G.711 at 50 packets/s each
way, every packet across the switch's relay, measuring loss, one-way latency and late packets
(over 50 ms), while the switch's CPU (pinned to core 0) is read from /proc. A step passes with
no failed call, loss under 0.1 % and p99 latency under 50 ms; every step runs (on a shared
machine a neighbour's burst can fail a small step that a larger one then passes). Prints ONE
JSON line.

    .venv/bin/python -m tests.bench.call_hold [--steps 100,200,300,400,500] [--rate 50]

`cpu_us_per_call_second` (the switch's CPU per second of a call with media both ways) is the
figure that survives a loaded machine, where steps fail for want of generator time; the
projection divides 95 % of a core by it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from softswitch.web.auth import TOKEN_FILE
from tests.bench.call_setup import CALLEE, _count, _pin, bench_switch, cpu_seconds
from tests.bench.rtpload import LoadGenerator, LoadReport
from tests.peers.sipp import sipp_binary
from tests.process import SwitchProcess, free_port, free_port_block

SCENARIOS = Path(__file__).parent / "scenarios"
DEFAULT_STEPS = (100, 200, 300, 400, 500)
PASS_LOSS = 0.001
PASS_P99_MS = 50.0
_SETTLE = 2.0  # seconds after the last answer before the media starts


def _sipp(scenario: str, port: int, injection: Path, *args: str) -> subprocess.Popen[str]:
    """One SIPp on core 1 (idle once its calls are up), its own session, stopped by PID."""
    return subprocess.Popen(
        [*_pin(1), sipp_binary(), "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1",
         "-p", str(port), "-mp", str(free_port_block()), "-inf", str(injection), "-nostdin",
         *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _stop(proc: subprocess.Popen[str], timeout: float) -> str:
    """Wait (bounded) for SIPp to end, kill its group if it does not; its final screen."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    return out or ""


def _injection(path: Path, ports: list[int]) -> Path:
    path.write_text("SEQUENTIAL\n" + "".join(f"{port};\n" for port in ports))
    return path


async def _answered(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await http.get("/calls")
    response.raise_for_status()
    return [c for c in response.json() if c["state"] == "answered" and c["media"]["callee"]]


def _destinations(calls: list[dict[str, Any]], endpoints: list[tuple[str, int]]
                  ) -> list[tuple[str, int]] | None:
    """For each generator endpoint, the switch port of the leg whose remote it is (None when
    some endpoint has no call: it was not answered)."""
    by_port: dict[int, tuple[str, int]] = {}
    for call in calls:
        for leg in call["media"].values():
            by_port[leg["remote_port"]] = (leg["local_address"], leg["local_port"])
    dests = [by_port.get(port) for _, port in endpoints]
    return None if any(d is None for d in dests) else dests  # type: ignore[return-value]


async def run_step(calls: int, rate: int, *, sip_port: int, uas_port: int,
                   http: httpx.AsyncClient, generator: LoadGenerator,
                   endpoints: list[tuple[str, int]], cpu: Any, warmup: float, seconds: float,
                   work: Path) -> dict[str, Any]:
    """``calls`` calls set up at ``rate``/s, held while the generator measures, then hung up."""
    used = endpoints[: 2 * calls]  # caller, callee, caller, callee...
    setup_limit = calls / rate * 2 + 20  # a loaded switch answers late; bounded all the same
    hold_ms = int((setup_limit + _SETTLE + warmup + seconds + 10) * 1000)
    uas = _sipp("rtp_uas.xml", uas_port, _injection(work / "uas.csv", [p for _, p in used[1::2]]))
    uac = _sipp("rtp_uac.xml", free_port(), _injection(work / "uac.csv", [p for _, p in used[::2]]),
                f"127.0.0.1:{sip_port}", "-s", CALLEE, "-r", str(rate), "-m", str(calls),
                "-l", str(calls), "-d", str(hold_ms), "-recv_timeout", "20s",
                "-timeout", f"{hold_ms // 1000 + 60}s")
    report: LoadReport | None = None
    cpu_share = 0.0
    switch_in = switch_out = 0
    answered = 0
    try:
        deadline = time.monotonic() + setup_limit
        up: list[dict[str, Any]] = []
        while time.monotonic() < deadline and uac.poll() is None:
            up = await _answered(http)
            if len(up) >= calls:
                break
            await asyncio.sleep(0.5)
        answered = len(up)
        dests = _destinations(up, used) if answered >= calls else None
        if dests is not None:
            await asyncio.sleep(_SETTLE)
            before, started = cpu(), time.monotonic()
            report = await generator.run(dests, warmup=warmup, seconds=seconds, mode="relay")
            cpu_share = (cpu() - before) / (time.monotonic() - started)
            counted = await _answered(http)
            switch_in = sum(leg["packets_in"] for c in counted for leg in c["media"].values())
            switch_out = sum(leg["packets_out"] for c in counted for leg in c["media"].values())
    finally:
        out = _stop(uac, hold_ms / 1000 + 90)
        _stop(uas, 10)
    successful, failed = _count(out, "Successful call"), _count(out, "Failed call")
    failed = max(failed, calls - successful)
    if report is None:
        print(f"  {calls} calls: {answered} answered in time, {failed} failed; no media run",
              file=sys.stderr, flush=True)
        return {"calls": calls, "answered": answered, "failed": failed, "ok": False}
    relayed = report.received
    p99 = report.latency_p99_ms
    step = {
        "calls": calls,
        "failed": failed,
        "switch_cpu": round(cpu_share, 3),
        "cpu_us_per_call_second": round(cpu_share * 1e6 / calls),
        # the switch's CPU per second over the packets it relayed per second in the window
        "cpu_us_per_packet": round(cpu_share * 1e6 * seconds / relayed, 2) if relayed else None,
        "packets_per_second": round(report.sent / seconds),
        "loss": round(report.loss, 5),
        "latency_p50_ms": report.latency_p50_ms,
        "latency_p99_ms": p99,
        "late_packets": report.late_packets,
        # the whole run (warm-up, window, drain) as /api/calls counts it: a loss the switch
        # did not see (switch_out close to switch_in) happened at a starved generator
        "switch_packets_in": switch_in,
        "switch_packets_out": switch_out,
        "generator_cpu": report.generator_cpu,
        "generator_late_fraction": round(report.generator_late_fraction, 4),
        "ok": failed == 0 and report.loss < PASS_LOSS and p99 is not None and p99 < PASS_P99_MS,
    }
    print(f"  {step}", file=sys.stderr, flush=True)
    return step


async def _wait_idle(http: httpx.AsyncClient, timeout: float = 30.0) -> None:
    """Every call of the step ended (bounded): the next step starts from an idle switch."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await http.get("/calls")
        if not response.json():
            return
        await asyncio.sleep(0.5)


async def measure(proc: SwitchProcess, data: Path, uas_port: int, steps: list[int], rate: int,
                  warmup: float, seconds: float) -> list[dict[str, Any]]:
    """Climb ``steps`` against the running switch ``proc``; every step run."""
    assert proc.proc is not None
    pid = proc.proc.pid
    token = (data / TOKEN_FILE).read_text(encoding="utf-8").strip()
    generator = LoadGenerator(core=1 if (os.cpu_count() or 1) > 1 else None)
    results: list[dict[str, Any]] = []
    try:
        endpoints = await generator.open(2 * max(steps))
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{proc.http_port}/api", timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        ) as http:
            with tempfile.TemporaryDirectory() as work:
                for calls in steps:
                    step = await run_step(
                        calls, rate, sip_port=proc.sip_port, uas_port=uas_port, http=http,
                        generator=generator, endpoints=endpoints,
                        cpu=lambda: cpu_seconds(pid, group=False), warmup=warmup,
                        seconds=seconds, work=Path(work))
                    results.append(step)
                    await _wait_idle(http)
    finally:
        await generator.close()
    return results


def summary(results: list[dict[str, Any]], rate: int, seconds: float, load: float
            ) -> dict[str, Any]:
    """The JSON line: the largest passing step and the projection of calls per core."""
    best = max([r["calls"] for r in results if r["ok"]], default=0)
    # the cost where the media really flowed (a starved run's CPU says nothing)
    costs = [r["cpu_us_per_call_second"] for r in results if r.get("loss", 1.0) < 0.01]
    return {
        "benchmark": "concurrent_calls_with_media",
        "pass": f"no failed call, loss < {PASS_LOSS:.1%}, p99 latency < {PASS_P99_MS:.0f} ms",
        "setup_rate": rate,
        "step_seconds": seconds,
        "max_concurrent_calls": best,
        # one core at 95 %, from the cost at the largest step that lost under 1 %
        "projected_calls_per_core": math.floor(0.95e6 / costs[-1]) if costs else None,
        "cpus": os.cpu_count(),
        "loadavg_at_start": round(load, 2),
        "steps": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default=",".join(map(str, DEFAULT_STEPS)))
    parser.add_argument("--rate", type=int, default=50, help="call setups per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured media window")
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    load = os.getloadavg()[0]
    uas_port = free_port()
    with bench_switch(uas_port) as (proc, data):
        results = asyncio.run(measure(proc, data, uas_port, steps, args.rate, args.warmup,
                                      args.seconds))
    print(json.dumps(summary(results, args.rate, args.seconds, load)))

if __name__ == "__main__":
    main()
