"""CPU milliseconds per relayed 1 s call inside the switch process, old tree against new.

Why: on a shared, loaded machine the passing rate of `tests.bench.call_setup` says more about
the neighbours than about the code; the CPU time the switch itself spends per call does not.
SIPp's built-in `uac` places 1 s calls at a modest fixed rate through `softswitch run` (a
B2BUA anchoring media, the CDRs written) to SIPp's `uas`, as in `call_setup`; the figure is
the process's user+system CPU over the run divided by the calls completed, with the event
loop thread's share beside it (the rest is mostly the database thread). Several source trees
(e.g. main exported to a directory, and this worktree) are measured alternately; the median
per tree goes out as ONE JSON line.

    .venv/bin/python -m tests.bench.call_cpu [--tree DIR ...] [--rate 60] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench.call_setup import CALLEE, Uas, run_step
from tests.bench.trees import alternate, cpu_seconds, summarise
from tests.process import ROOT, SwitchProcess, free_port

CONFIG = ('[registrar]\nqualify_interval = 0\n'
          '[trunks.bench]\nhost = "127.0.0.1"\nregister = false\n'
          'inbound_acl = ["127.0.0.1/32"]\n')

BIND = f"""
import asyncio, sys, time
from pathlib import Path
from softswitch.store import Binding, open_database
async def main(data, port):
    db = await open_database(Path(data))
    try:
        now = time.time()
        await db.bindings.update("{CALLEE}", [Binding(
            aor="{CALLEE}", contact=f"sip:{CALLEE}@127.0.0.1:{{port}}", expires_at=now + 86400,
            call_id="bench", cseq=1, source_host="127.0.0.1", source_port=port,
            transport="UDP", last_seen=now)])
    finally:
        await db.close()
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def measure(tree: Path, rate: int, seconds: float,
            profile: Path | None = None) -> dict[str, float]:
    """One switch from ``tree`` and one SIPp run; CPU per completed call (and, with
    ``profile``, py-spy's collapsed stacks of the run written there)."""
    uas = Uas(free_port()).start()
    try:
        with tempfile.TemporaryDirectory() as work:
            data = Path(work) / "data"
            # With the tree's own code, so the schema is the one its switch expects.
            subprocess.run([sys.executable, "-c", BIND, str(data), str(uas.port)], cwd=tree,
                           check=True, timeout=120)
            config = Path(work) / "bench.toml"
            config.write_text(CONFIG)
            proc = SwitchProcess(data, "--config", str(config))
            proc.cwd = tree
            proc.start(timeout=90)
            try:
                assert proc.proc is not None
                run_step(proc.sip_port, 20, 2)  # warm-up: lazy imports, caches
                native = ["--native"] if os.environ.get("SPY_NATIVE") else []
                spy = None if profile is None else subprocess.Popen(
                    [str(Path(sys.executable).parent / "py-spy"), "record", "-p",
                     str(proc.proc.pid), "-r", "250", *native, "-f", "raw",
                     "-o", str(profile), "-d", str(int(seconds) + 2)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                total_before, loop_before = cpu_seconds(proc.proc.pid)
                step = run_step(proc.sip_port, rate, seconds)
                if spy is not None:
                    spy.wait(seconds + 30)
                total_after, loop_after = cpu_seconds(proc.proc.pid)
            finally:
                proc.stop()
    finally:
        uas.stop()
    done = max(step.successful, 1)
    return {"ok": step.successful, "failed": step.failed, "p95_ms": step.p95_ms or 0.0,
            "ms_per_call": round((total_after - total_before) * 1000 / done, 3),
            "loop_ms_per_call": round((loop_after - loop_before) * 1000 / done, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", action="append", type=Path,
                        help="source tree to run the switch from (repeatable); default: this one")
    parser.add_argument("--rate", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", type=Path,
                        help="py-spy's collapsed stacks of one run of the first tree (only)")
    args = parser.parse_args()
    # stopped early: still stop the switch and SIPps it started (the finally clauses)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    trees = [tree.resolve() for tree in (args.tree or [ROOT])]
    if args.profile:
        print(measure(trees[0], args.rate, args.seconds, args.profile), file=sys.stderr)
        return
    runs = alternate(trees, args.repeats, lambda tree: measure(tree, args.rate, args.seconds))
    print(json.dumps({
        "benchmark": "call_cpu_per_relayed_call",
        "rate": args.rate,
        "seconds": args.seconds,
        "loadavg": os.getloadavg()[0],
        "trees": summarise(runs, "ms_per_call", "ms"),
    }))


if __name__ == "__main__":
    main()
