"""Relayed call setups per second: SIPp UAC -> server -> SIPp UAS, 1 s calls, three servers.

- softswitch: `softswitch run`, a B2BUA that anchors media (two RTP legs opened per call, a
  CDR row opened, answered and closed), the UAC admitted by a trunk's IP ACL (no digest, as
  the other two), the callee a registered extension whose contact is the SIPp UAS;
- Kamailio (Debian package, `make bench-setup`): a stateful proxy (tm, record-route, one
  worker), signalling only;
- sippy's `b2bua_simple` (`pip install -e .[bench]`): a Python B2BUA, signalling only.

Each server is pinned to core 0, both SIPps to core 1. For each server the rate climbs
through ``--rates``; a step runs ``--seconds`` of calls at that rate (SIPp's built-in `uac`,
1 s calls, and `uas`). A step passes with under 0.1 % failed calls and a p95 setup time
(INVITE to 200, SIPp's rtd) under 500 ms; the highest passing step is the server's figure and
the climb stops at the first failure. ``--rounds`` alternate the servers; medians and ratios
go out as ONE JSON line at the end (the machine is shared and noisy: compare within a run).

    .venv/bin/python -m tests.bench.call_setup [--rates 100,200,300] [--seconds 5] [--rounds 1]

Concurrent calls with media are tests/bench/call_hold.py's (it starts the switch as here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from softswitch.store import Binding, open_database
from tests.bench.kamailio import Kamailio
from tests.peers.sipp import sipp_binary
from tests.process import SwitchProcess, free_port, free_port_block

CALLEE = "1002"
PASS_FAILED = 0.001
PASS_P95_MS = 500.0

KAMAILIO_PROXY = """
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        if (is_method("ACK") && t_check_trans()) {{ t_relay(); }}
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    t_check_trans();
    record_route();
    $du = "sip:127.0.0.1:{uas}";
    t_relay();
}}
"""


@dataclass
class Step:
    rate: int
    calls: int
    successful: int
    failed: int
    p95_ms: float | None
    achieved_rate: float
    cpu_ms_per_call: float | None = None  # the server's CPU time (all its processes)

    @property
    def passed(self) -> bool:
        return (self.calls > 0 and self.failed <= self.calls * PASS_FAILED
                and self.p95_ms is not None and self.p95_ms < PASS_P95_MS)


def _pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if (os.cpu_count() or 1) > 1 else []


def _count(output: str, label: str) -> int:
    found = re.findall(rf"{label}\s*\|\s*\d+\s*\|\s*(\d+)", output)
    return int(found[-1]) if found else 0


def _rate(output: str) -> float:
    found = re.findall(r"Call Rate\s*\|\s*[\d.]+ cps\s*\|\s*([\d.]+) cps", output)
    return float(found[-1]) if found else 0.0


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2)


class Uas:
    """SIPp's built-in `uas` (180, 200, waits for the BYE), stopped by its PID."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Uas:
        self.proc = subprocess.Popen(
            [*_pin(1), sipp_binary(), "-sn", "uas", "-i", "127.0.0.1", "-p", str(self.port),
             "-nostdin", "-mp", str(free_port_block())],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(0.5)
        if self.proc.poll() is not None:
            raise RuntimeError("the SIPp UAS did not start")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def run_step(server_port: int, rate: int, seconds: float) -> Step:
    """One step: ``rate`` calls/s for ``seconds``, each call 1 s long."""
    calls = max(1, int(rate * seconds))
    with tempfile.TemporaryDirectory() as work:
        args = [*_pin(1), sipp_binary(), "-sn", "uac", f"127.0.0.1:{server_port}",
                "-s", CALLEE, "-i", "127.0.0.1", "-p", str(free_port()),
                "-mp", str(free_port_block()), "-d", "1000", "-r", str(rate), "-m", str(calls),
                "-l", str(max(50, rate * 4)), "-recv_timeout", "10s",
                "-timeout", f"{int(seconds) + 40}s", "-nostdin", "-trace_rtt",
                "-rtt_freq", "1", "-trace_err"]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 90,
                              cwd=work)
        out = proc.stdout + proc.stderr
        times: list[float] = []
        for trace in Path(work).glob("*_rtt.csv"):
            for line in trace.read_text().splitlines()[1:]:
                parts = line.split(";")
                if len(parts) >= 3 and parts[2].strip() == "1":
                    times.append(float(parts[1]))
        errors = "".join(p.read_text(errors="replace") for p in Path(work).glob("*errors.log"))
    successful, failed = _count(out, "Successful call"), _count(out, "Failed call")
    if failed or successful < calls:
        print(f"  first SIPp errors at {rate}/s:\n{errors[:1200]}", file=sys.stderr)
    # a call that never finished (the run timed out) counts as failed too
    return Step(rate, calls, successful, max(failed, calls - successful), _p95(times),
                _rate(out))


def cpu_seconds(pid: int, *, group: bool) -> float:
    """User + system CPU time of ``pid`` (and, with ``group``, of its whole process group):
    a figure the machine's load barely changes, unlike rates and latencies."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(stat.parent.name) == pid or (group and int(fields[2]) == pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def climb(server_port: int, cpu: Callable[[], float], rates: list[int],
          seconds: float) -> tuple[int, list[Step]]:
    """The highest passing rate (0: none) and every step run, after a short warm-up (the
    first calls of a fresh process pay for lazy imports and caches)."""
    run_step(server_port, 20, 2)
    best, steps = 0, []
    for rate in rates:
        before = cpu()
        step = run_step(server_port, rate, seconds)
        if step.successful:
            step.cpu_ms_per_call = round((cpu() - before) * 1000 / step.successful, 3)
        steps.append(step)
        print(f"  {rate}/s: {step.successful}/{step.calls} ok, {step.failed} failed, "
              f"p95 {step.p95_ms} ms, {step.cpu_ms_per_call} CPU ms/call "
              f"-> {'pass' if step.passed else 'FAIL'}", file=sys.stderr, flush=True)
        if not step.passed:
            break
        best = rate
    return best, steps


async def _bind_callee(data: Path, uas_port: int) -> None:
    db = await open_database(data)
    try:
        now = time.time()
        await db.bindings.update(CALLEE, [Binding(
            aor=CALLEE, contact=f"sip:{CALLEE}@127.0.0.1:{uas_port}",
            expires_at=now + 86400, call_id="bench", cseq=1, source_host="127.0.0.1",
            source_port=uas_port, transport="UDP", last_seen=now)])
    finally:
        await db.close()


@contextmanager
def bench_switch(uas_port: int) -> Iterator[tuple[SwitchProcess, Path]]:
    """`softswitch run` pinned to core 0 with its data directory: the callee extension bound
    to the SIPp UAS at ``uas_port``, a trunk admitting SIPp callers from 127.0.0.1 by IP."""
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "data"
        asyncio.run(_bind_callee(data, uas_port))
        config = Path(work) / "bench.toml"
        config.write_text(
            "[registrar]\nqualify_interval = 0\n"
            "[trunks.bench]\nhost = \"127.0.0.1\"\nregister = false\n"
            "inbound_acl = [\"127.0.0.1/32\"]\n")
        proc = SwitchProcess(data, "--config", str(config))
        proc.args = [*_pin(0), *proc.args]
        proc.start()
        try:
            yield proc, data
        finally:
            proc.stop()


@contextmanager
def softswitch(uas_port: int) -> Iterator[tuple[int, Callable[[], float]]]:
    with bench_switch(uas_port) as (proc, _):
        assert proc.proc is not None
        pid = proc.proc.pid
        yield proc.sip_port, lambda: cpu_seconds(pid, group=False)


@contextmanager
def kamailio(uas_port: int) -> Iterator[tuple[int, Callable[[], float]]]:
    cpu = 0 if (os.cpu_count() or 1) > 1 else None
    kam = Kamailio(free_port(), routing=KAMAILIO_PROXY.format(uas=uas_port), cpu=cpu).start()
    assert kam.proc is not None
    pid = kam.proc.pid
    try:
        yield kam.port, lambda: cpu_seconds(pid, group=True)
    finally:
        kam.stop()


@contextmanager
def sippy(uas_port: int) -> Iterator[tuple[int, Callable[[], float]]]:
    binary = shutil.which("b2bua_simple") or str(Path(sys.executable).parent / "b2bua_simple")
    if not Path(binary).exists():
        raise RuntimeError("sippy is not installed: pip install -e '.[bench]'")
    port = free_port()
    proc = subprocess.Popen(
        [*_pin(0), binary, "-f", "-l", "127.0.0.1", "-p", str(port),
         "-n", f"127.0.0.1:{uas_port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(1.5)
    try:
        if proc.poll() is not None:
            raise RuntimeError("b2bua_simple did not start")
        yield port, lambda: cpu_seconds(proc.pid, group=True)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


SERVERS: dict[str, Callable[[int], object]] = {  # each yields (port, CPU seconds reader)
    "softswitch": softswitch, "kamailio": kamailio, "sippy": sippy,
}


def measure(name: str, rates: list[int], seconds: float) -> tuple[int, list[Step]]:
    uas = Uas(free_port()).start()
    try:
        with SERVERS[name](uas.port) as (port, cpu):  # type: ignore[attr-defined]
            print(f"{name}:", file=sys.stderr, flush=True)
            return climb(port, cpu, rates, seconds)
    finally:
        uas.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", default="100,200,300,400,500,600,800,1000,1500,2000,3000")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one step")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--servers", default="softswitch,kamailio,sippy")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    names = args.servers.split(",")
    best: dict[str, list[int]] = {name: [] for name in names}
    steps: dict[str, list[list[dict[str, object]]]] = {name: [] for name in names}
    for _ in range(args.rounds):
        for name in names:
            rate, run = measure(name, rates, args.seconds)
            best[name].append(rate)
            steps[name].append([{**asdict(s), "passed": s.passed} for s in run])
    medians = {name: statistics.median(values) for name, values in best.items()}
    # CPU per call at the lowest step (no queueing): the capacity of one free core
    cpu_ms = {name: statistics.median(r[0]["cpu_ms_per_call"] for r in runs
                                      if r and r[0]["cpu_ms_per_call"])
              for name, runs in steps.items()
              if any(r and r[0]["cpu_ms_per_call"] for r in runs)}
    ours = medians.get("softswitch")
    print(json.dumps({
        "benchmark": "call_setup_1s_calls_udp",
        "pass": f"failed < {PASS_FAILED:.1%} and p95 INVITE->200 < {PASS_P95_MS:.0f} ms",
        "step_seconds": args.seconds,
        "rates_tried": rates,
        **{f"{name}_best_per_s": values for name, values in best.items()},
        **{f"{name}_median_per_s": medians[name] for name in names},
        **{f"{name}_cpu_ms_per_call": value for name, value in cpu_ms.items()},
        **{f"{name}_setups_per_cpu_second": round(1000 / value) for name, value in cpu_ms.items()},
        **{f"ratio_softswitch_to_{name}": round(ours / medians[name], 3)
           for name in names if name != "softswitch" and ours is not None and medians[name]},
        "steps": steps,
    }))


if __name__ == "__main__":
    main()
