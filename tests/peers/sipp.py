"""Running SIPp scenarios from tests and benchmarks (Debian package `sip-tester`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.process import free_port, free_port_block

__all__ = ["SCENARIOS", "SippResult", "run_sipp", "sipp_binary"]

SCENARIOS = Path(__file__).parent / "scenarios"


def sipp_binary() -> str:
    path = shutil.which("sipp")
    if path is None:
        raise RuntimeError("sipp is not installed: run `make setup` (Debian package sip-tester)")
    return path


@dataclass
class SippResult:
    returncode: int
    successful: int
    failed: int
    rate: float
    output: str


def run_sipp(
    scenario: str,
    port: int,
    *,
    transport: str = "u1",
    calls: int = 10,
    rate: int = 10,
    timeout: float = 60,
    extra: tuple[str, ...] = (),
    cpu: int | None = None,
) -> SippResult:
    """Run a scenario from tests/peers/scenarios against 127.0.0.1:port; bounded in calls/time."""
    args = [
        sipp_binary(), "-sf", str(SCENARIOS / scenario), f"127.0.0.1:{port}",
        "-i", "127.0.0.1", "-p", str(free_port()), "-t", transport,
        "-m", str(calls), "-r", str(rate), "-timeout", f"{int(timeout)}s", "-timeout_error",
        "-nostdin", "-max_socket", "100", "-mp", str(free_port_block()), *extra,
    ]
    if cpu is not None:
        args = ["taskset", "-c", str(cpu), *args]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout + 30)
    out = proc.stdout + proc.stderr
    return SippResult(
        proc.returncode, _cumulative(out, "Successful call"), _cumulative(out, "Failed call"),
        _rate(out), out,
    )


def _cumulative(output: str, label: str) -> int:
    matches = re.findall(rf"{label}\s*\|\s*\d+\s*\|\s*(\d+)", output)
    return int(matches[-1]) if matches else 0


def _rate(output: str) -> float:
    matches = re.findall(r"Call Rate\s*\|\s*[\d.]+ cps\s*\|\s*([\d.]+) cps", output)
    return float(matches[-1]) if matches else 0.0
