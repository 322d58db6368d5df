"""Authenticated REGISTERs per second for 1,000 users: `softswitch run` against Kamailio.

Both servers hold the same 1,000 users (ours in SQLite, Kamailio's in a db_text subscriber
table read by auth_db; usrloc in memory, one worker). SIPp plays the phones from an injection
file (REGISTER, answer the 401 with MD5 since SIPp has no SHA-256, expect 200). Servers are
pinned to core 0, SIPp to core 1. Two measurements per server and round:

- throughput: as fast as possible with at most ``--limit`` registrations in flight;
- latency: at the goal rate (``--rate``), p99 of each request's response time (SIPp rtd).

One registration is two REGISTER requests (challenge, then answer). Three rounds alternate the
servers; the medians, ratio, failures and p99 are printed as ONE JSON line.

With ``--restart`` each server is restarted between the two measurements, so the latency run
is the storm after a restart: every phone registers again at once while the new process holds
nothing in memory yet (ours has every binding on disk from the throughput run).

    .venv/bin/python -m tests.bench.register [--calls 20000] [--rate 2000] [--rounds 3] [--restart]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from softswitch.sip.digest import DigestAlgorithm, compute_ha1
from softswitch.store import open_database
from softswitch.switch.directory import make_user
from tests.bench.kamailio import Kamailio
from tests.peers.sipp import SCENARIOS, sipp_binary
from tests.process import SwitchProcess, free_port

USERS = 1000
FIRST_EXTENSION = 3000
REALM = "softswitch"

KAMAILIO_REGISTRAR = """
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "textops.so"
loadmodule "db_text.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("auth_db", "db_url", "text://{db_dir}")
modparam("auth_db", "calculate_ha1", 0)
modparam("auth_db", "password_column", "ha1")
modparam("auth_db", "load_credentials", "")
modparam("usrloc", "db_mode", 0)
request_route {{
    if (is_method("REGISTER")) {{
        if (!auth_check("{realm}", "subscriber", "1")) {{
            auth_challenge("{realm}", "1");
            exit;
        }}
        if (!save("location")) {{ sl_reply_error(); }}
        exit;
    }}
    sl_send_reply("404", "Not Here");
}}
"""


def password(index: int) -> str:
    return f"pw-{index:04d}-secret"


def users() -> list[tuple[str, str]]:
    return [(str(FIRST_EXTENSION + i), password(i)) for i in range(USERS)]


def write_injection(path: Path) -> None:
    lines = ["SEQUENTIAL"] + [
        f"{ext};[authentication username={ext} password={pw}]" for ext, pw in users()
    ]
    path.write_text("\n".join(lines) + "\n")


async def fill_directory(data: Path) -> None:
    db = await open_database(data)
    try:
        await db.settings.get_or_set("realm", REALM)
        await db.users.add_many([make_user(ext, pw, REALM) for ext, pw in users()])
    finally:
        await db.close()


def write_db_text(directory: Path) -> None:
    """Kamailio's db_text tables: ``version`` and ``subscriber`` with HA1 (no passwords)."""
    directory.mkdir()
    (directory / "version").write_text(
        "table_name(string) table_version(int)\nsubscriber:7\nlocation:9\n"
    )
    rows = [
        "id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string)"
    ]
    for i, (ext, pw) in enumerate(users(), start=1):
        ha1 = compute_ha1(ext, REALM, pw, DigestAlgorithm.MD5)
        rows.append(f"{i}:{ext}:{REALM}:-:{ha1}:-")
    (directory / "subscriber").write_text("\n".join(rows) + "\n")


@dataclass
class Run:
    rate: float
    successful: int
    failed: int
    p99_ms: float | None
    p99_challenge_ms: float | None
    p99_answer_ms: float | None


def _pin(cpu: int) -> tuple[str, ...]:
    return ("taskset", "-c", str(cpu)) if (os.cpu_count() or 1) > 1 else ()


def sipp(port: int, injection: Path, *, calls: int, rate: int, limit: int) -> Run:
    """Run the scenario; response times come from SIPp's per-request rtt trace."""
    with tempfile.TemporaryDirectory() as work:
        args = [
            *_pin(1),
            sipp_binary(),
            "-sf",
            str(SCENARIOS / "register_auth.xml"),
            f"127.0.0.1:{port}",
            "-i",
            "127.0.0.1",
            "-p",
            str(free_port()),
            "-t",
            "u1",
            "-inf",
            str(injection),
            "-m",
            str(calls),
            "-r",
            str(rate),
            "-l",
            str(limit),
            "-timeout",
            "120s",
            "-timeout_error",
            "-nostdin",
            "-trace_rtt",
            "-rtt_freq",
            "1",
        ]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=180, cwd=work)
        out = proc.stdout + proc.stderr
        times: dict[str, list[float]] = {"1": [], "2": []}
        for trace in Path(work).glob("*_rtt.csv"):
            for line in trace.read_text().splitlines()[1:]:
                parts = line.split(";")
                if len(parts) >= 3 and parts[2].strip() in times:
                    times[parts[2].strip()].append(float(parts[1]))
    both = times["1"] + times["2"]
    return Run(
        rate=_rate(out),
        successful=_count(out, "Successful call"),
        failed=_count(out, "Failed call"),
        p99_ms=_p99(both),
        p99_challenge_ms=_p99(times["1"]),
        p99_answer_ms=_p99(times["2"]),
    )


def _count(output: str, label: str) -> int:
    found = re.findall(rf"{label}\s*\|\s*\d+\s*\|\s*(\d+)", output)
    return int(found[-1]) if found else 0


def _rate(output: str) -> float:
    found = re.findall(r"Call Rate\s*\|\s*[\d.]+ cps\s*\|\s*([\d.]+) cps", output)
    return float(found[-1]) if found else 0.0


def _p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2)


def measure_softswitch(args: argparse.Namespace, injection: Path) -> tuple[Run, Run]:
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "data"
        asyncio.run(fill_directory(data))
        config = Path(work) / "bench.toml"
        # SIPp answers only the first challenge and knows only MD5, so offer MD5 first;
        # its contacts do not answer OPTIONS, so no qualify.
        config.write_text(
            '[security]\ndigest_algorithms = ["MD5", "SHA-256"]\n'
            "[registrar]\nqualify_interval = 0\n"
        )
        def start() -> SwitchProcess:
            proc = SwitchProcess(data, "--config", str(config))
            proc.args = [*_pin(0), *proc.args]
            return proc.start()

        proc = start()
        try:
            throughput = _throughput(proc.sip_port, injection, args)
            if args.restart:
                proc.stop()
                proc = start()
            return throughput, _latency(proc.sip_port, injection, args)
        finally:
            proc.stop()


def measure_kamailio(args: argparse.Namespace, injection: Path) -> tuple[Run, Run]:
    with tempfile.TemporaryDirectory() as work:
        db_dir = Path(work) / "db"
        write_db_text(db_dir)
        routing = KAMAILIO_REGISTRAR.format(db_dir=db_dir, realm=REALM)

        def start() -> Kamailio:
            return Kamailio(
                free_port(), routing=routing, cpu=0 if (os.cpu_count() or 1) > 1 else None
            ).start()

        kam = start()
        try:
            throughput = _throughput(kam.port, injection, args)
            if args.restart:
                kam.stop()
                kam = start()
            return throughput, _latency(kam.port, injection, args)
        finally:
            kam.stop()


def _throughput(port: int, injection: Path, args: argparse.Namespace) -> Run:
    return sipp(port, injection, calls=args.calls, rate=args.calls, limit=args.limit)


def _latency(port: int, injection: Path, args: argparse.Namespace) -> Run:
    return sipp(port, injection, calls=args.rate * args.seconds, rate=args.rate, limit=args.rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--limit", type=int, default=100, help="registrations in flight")
    parser.add_argument("--rate", type=int, default=2000, help="goal rate for the p99 run")
    parser.add_argument("--seconds", type=int, default=5, help="length of the p99 run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--restart", action="store_true",
                        help="restart each server before its p99 run (a restart's storm)")
    args = parser.parse_args()
    ours: list[tuple[Run, Run]] = []
    theirs: list[tuple[Run, Run]] = []
    with tempfile.TemporaryDirectory() as work:
        injection = Path(work) / "users.csv"
        write_injection(injection)
        for _ in range(args.rounds):
            ours.append(measure_softswitch(args, injection))
            theirs.append(measure_kamailio(args, injection))
    ours_median = statistics.median(t.rate for t, _ in ours)
    theirs_median = statistics.median(t.rate for t, _ in theirs)

    def summary(runs: list[tuple[Run, Run]], prefix: str) -> dict[str, object]:
        return {
            f"{prefix}_rates": [t.rate for t, _ in runs],
            f"{prefix}_failed": sum(t.failed + lat.failed for t, lat in runs),
            f"{prefix}_p99_ms_at_goal_rate": [lat.p99_ms for _, lat in runs],
            f"{prefix}_p99_challenge_ms": [lat.p99_challenge_ms for _, lat in runs],
            f"{prefix}_p99_answer_ms": [lat.p99_answer_ms for _, lat in runs],
            f"{prefix}_achieved_goal_rate": [lat.rate for _, lat in runs],
        }

    print(
        json.dumps(
            {
                "benchmark": "register_digest_md5_udp",
                "users": USERS,
                "unit": "registrations/s (each = REGISTER 401 + REGISTER 200)",
                "calls_per_round": args.calls,
                "in_flight_limit": args.limit,
                "goal_rate": args.rate,
                "p99_after_restart": args.restart,
                **summary(ours, "softswitch"),
                **summary(theirs, "kamailio"),
                "softswitch_median_per_s": ours_median,
                "kamailio_median_per_s": theirs_median,
                "ratio_softswitch_to_kamailio": round(ours_median / theirs_median, 3)
                if theirs_median
                else None,
            }
        )
    )


if __name__ == "__main__":
    main()
