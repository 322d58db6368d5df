"""Shared parts of the CPU-per-operation benchmarks (register_cpu, call_cpu): the switch
process's CPU time from /proc, and source trees run in turn and summarised.

Why: on a shared 2-core machine throughput measures the neighbours; CPU time of the switch
per completed operation, with the old and the new tree alternated round by round, is the
figure a code change can be judged by (docs/benchmarks.md)."""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["alternate", "cpu_seconds", "summarise"]


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User + system CPU time so far (from /proc): the whole process, and its main thread
    (the event loop; the rest is mostly the database thread)."""

    def read(stat: Path) -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return read(Path(f"/proc/{pid}/stat")), read(Path(f"/proc/{pid}/task/{pid}/stat"))


def alternate(trees: list[Path], repeats: int,
              measure: Callable[[Path], dict[str, float]]) -> dict[str, list[dict[str, float]]]:
    """``measure`` each tree in turn, ``repeats`` rounds; each run is printed to stderr."""
    runs: dict[str, list[dict[str, float]]] = {str(tree): [] for tree in trees}
    for _ in range(repeats):
        for tree in trees:
            run = measure(tree)
            runs[str(tree)].append(run)
            print(tree, run, file=sys.stderr, flush=True)
    return runs


def summarise(runs: dict[str, list[dict[str, float]]], key: str, unit: str
              ) -> dict[str, dict[str, object]]:
    """Per tree: every run's ``key``, its median, the loop thread's median (``loop_`` +
    ``key``) and the failed operations, under the names the JSON lines have always used."""
    return {
        tree: {
            key: [r[key] for r in tree_runs],
            f"median_{unit}": statistics.median(r[key] for r in tree_runs),
            f"loop_median_{unit}": statistics.median(r[f"loop_{key}"] for r in tree_runs),
            "failed": sum(r["failed"] for r in tree_runs),
        }
        for tree, tree_runs in runs.items()
    }
