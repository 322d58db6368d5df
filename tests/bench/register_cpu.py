"""CPU microseconds per authenticated registration inside the switch process.

Why: on a shared, loaded machine throughput says more about the neighbours than about the
code; the CPU time the switch process itself spends per registration does not. SIPp plays the
same 1,000 phones as `tests.bench.register` (REGISTER -> 401 -> REGISTER with MD5 -> 200) at a
fixed, modest rate; the figure is the process's user+system CPU time over the run divided by
the registrations completed (and the event-loop thread's share of it, the rest being mostly
the database thread). Several source trees (e.g. main exported to a directory, and
this worktree) are measured alternately, and the median per tree is printed as ONE JSON line.

    .venv/bin/python -m tests.bench.register_cpu [--tree DIR ...] [--calls 6000] [--rate 600]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench.register import write_injection
from tests.bench.trees import alternate, cpu_seconds, summarise
from tests.peers.sipp import run_sipp
from tests.process import ROOT, SwitchProcess

CONFIG = '[security]\ndigest_algorithms = ["MD5", "SHA-256"]\n[registrar]\nqualify_interval = 0\n'


def measure(tree: Path, injection: Path, calls: int, rate: int) -> dict[str, float]:
    """One switch from ``tree``, one SIPp run; CPU per completed registration."""
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "data"
        # With the tree's own code, so its schema version is the one its switch expects.
        subprocess.run(
            [sys.executable, "-c", "import asyncio, sys; from pathlib import Path; "
             "from tests.bench.register import fill_directory; "
             "asyncio.run(fill_directory(Path(sys.argv[1])))", str(data)],
            cwd=tree, check=True, timeout=120,
        )
        config = Path(work) / "bench.toml"
        config.write_text(CONFIG)
        proc = SwitchProcess(data, "--config", str(config))
        proc.cwd = tree
        proc.start(timeout=90)
        try:
            assert proc.proc is not None
            # Warm up (imports, caches, first database reads) outside the measurement.
            run_sipp("register_auth.xml", proc.sip_port, calls=1000, rate=rate, timeout=120,
                     extra=("-inf", str(injection)))
            total_before, loop_before = cpu_seconds(proc.proc.pid)
            result = run_sipp("register_auth.xml", proc.sip_port, calls=calls, rate=rate,
                              timeout=300, extra=("-inf", str(injection)))
            total_after, loop_after = cpu_seconds(proc.proc.pid)
        finally:
            proc.stop()
    done = max(result.successful, 1)
    used, loop = total_after - total_before, loop_after - loop_before
    return {"ok": result.successful, "failed": result.failed, "cpu_s": round(used, 2),
            "us_per_registration": round(used / done * 1e6, 1),
            "loop_us_per_registration": round(loop / done * 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", action="append", type=Path,
                        help="source tree to run the switch from (repeatable); default: this one")
    parser.add_argument("--calls", type=int, default=6000)
    parser.add_argument("--rate", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    trees = [tree.resolve() for tree in (args.tree or [ROOT])]
    with tempfile.TemporaryDirectory() as work:
        injection = Path(work) / "users.csv"
        write_injection(injection)
        runs = alternate(trees, args.repeats,
                         lambda tree: measure(tree, injection, args.calls, args.rate))
    print(json.dumps({
        "benchmark": "register_cpu_per_registration",
        "calls": args.calls,
        "rate": args.rate,
        "loadavg": os.getloadavg()[0],
        "trees": summarise(runs, "us_per_registration", "us"),
    }))


if __name__ == "__main__":
    main()
