"""OPTIONS per second over UDP: `softswitch run` against Kamailio, same SIPp load, same run.

Each server is pinned to core 0 and SIPp to core 1 (when the machine has two cores). SIPp sends
OPTIONS at a target rate far above what either server can answer, for a fixed number of calls; the
figure is the rate SIPp achieved with zero failures. Three rounds alternate the servers; medians
and the ratio are printed as one JSON line.

    .venv/bin/python -m tests.bench.options [--calls 30000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

from tests.bench.kamailio import Kamailio
from tests.peers.sipp import run_sipp
from tests.process import SwitchProcess, free_port


def _pin(cpu: int) -> tuple[str, ...]:
    return ("taskset", "-c", str(cpu)) if (os.cpu_count() or 1) > 1 else ()


def measure_softswitch(calls: int, rate: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as data:
        proc = SwitchProcess(Path(data))
        proc.args = [*_pin(0), *proc.args]
        proc.start()
        try:
            result = run_sipp("options.xml", proc.sip_port, calls=calls, rate=rate,
                              timeout=120, extra=_sipp_extra(), cpu=_sipp_cpu())
        finally:
            proc.stop()
    return {"rate": result.rate, "failed": result.failed, "ok": result.successful}


def measure_kamailio(calls: int, rate: int) -> dict[str, float]:
    kam = Kamailio(free_port(), cpu=0 if (os.cpu_count() or 1) > 1 else None).start()
    try:
        result = run_sipp("options.xml", kam.port, calls=calls, rate=rate, timeout=120,
                          extra=_sipp_extra(), cpu=_sipp_cpu())
    finally:
        kam.stop()
    return {"rate": result.rate, "failed": result.failed, "ok": result.successful}


def _sipp_cpu() -> int | None:
    return 1 if (os.cpu_count() or 1) > 1 else None


def _sipp_extra() -> tuple[str, ...]:
    # Many calls in flight at once so SIPp is not the bottleneck; -l bounds them.
    return ("-l", "2000")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=30000)
    parser.add_argument("--rate", type=int, default=30000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for _ in range(args.rounds):
        ours.append(measure_softswitch(args.calls, args.rate))
        theirs.append(measure_kamailio(args.calls, args.rate))
    ours_median = statistics.median(r["rate"] for r in ours)
    theirs_median = statistics.median(r["rate"] for r in theirs)
    print(json.dumps({
        "benchmark": "options_udp",
        "calls_per_round": args.calls,
        "softswitch_rates": [r["rate"] for r in ours],
        "softswitch_failed": sum(r["failed"] for r in ours),
        "kamailio_rates": [r["rate"] for r in theirs],
        "kamailio_failed": sum(r["failed"] for r in theirs),
        "softswitch_median_per_s": ours_median,
        "kamailio_median_per_s": theirs_median,
        "ratio_softswitch_to_kamailio": round(ours_median / theirs_median, 3) if theirs_median else None,
    }))


if __name__ == "__main__":
    main()
