"""sipvicious against the registrar: svwar enumerates no extension, svcrack finds no password.

svcrack answers only MD5 and only the first challenge, and both tools announce themselves as
"friendly-scanner"; scanner dropping is turned off where the test is about the deeper
defence (identical failures, brute-force blocking), so the tools really get to try.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.peers.registering import start_switch


@pytest.fixture(autouse=True, scope="module")
def _svwar_installed() -> None:
    """Installed by `make setup`; a missing peer is a failure, never a silent skip."""
    assert shutil.which("svwar"), "svwar is missing: run `make setup` (Debian sipvicious)"


USERS = {"1001": "correct-horse-1", "1005": "battery-staple-5"}


def run(args: list[str], cwd: Path) -> str:
    """Run a tool; one that hangs after being blocked is stopped, keeping what it printed."""
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=15, cwd=cwd)
    except subprocess.TimeoutExpired as expired:
        return f"{expired.stdout or ''}{expired.stderr or ''}"
    return proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("config", "force"),
    [("", ()), ("[security]\ndrop_scanners = false\n", ("--force",))],
    ids=["scanner-dropped", "scanner-allowed"],
)
def test_svwar_finds_no_extension(tmp_path: Path, config: str, force: tuple[str, ...]) -> None:
    proc = start_switch(tmp_path, config, **USERS)
    try:
        out = run(["svwar", *force, "-e1000-1010", "-m", "REGISTER",
                   f"udp://127.0.0.1:{proc.sip_port}"], tmp_path)
    finally:
        proc.stop()
    assert "found nothing" in out, out[-2000:]
    assert "1001" not in out.split("found nothing")[-1]


def test_svcrack_is_blocked_before_reaching_the_password(tmp_path: Path) -> None:
    dictionary = tmp_path / "words.txt"
    dictionary.write_text("".join(f"guess-{i:02d}\n" for i in range(15)) + "correct-horse-1\n")
    proc = start_switch(
        tmp_path, '[security]\ndrop_scanners = false\ndigest_algorithms = ["MD5", "SHA-256"]\n',
        **USERS)
    try:
        out = run(["svcrack", "--maximumtime=8", "-u", "1001", "-d", str(dictionary),
                   f"udp://127.0.0.1:{proc.sip_port}"], tmp_path)
    finally:
        proc.stop()
    assert "correct-horse-1" not in out, out[-2000:]
    with sqlite3.connect(tmp_path / "data" / "softswitch.db") as db:
        kinds = [row[0] for row in db.execute("SELECT kind FROM security_events")]
    assert kinds.count("auth_failed") == 10
    assert kinds.count("source_blocked") == 1
