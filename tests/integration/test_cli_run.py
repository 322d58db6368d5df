"""`softswitch run` as an operator uses it: a real process, signals, clear one-line errors."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.process import ROOT, SwitchProcess, free_port


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "softswitch", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )


def test_run_prints_where_it_listens_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = SwitchProcess(tmp_path / "data").start()
    try:
        assert proc.sip_port > 0 and proc.http_port > 0
        assert any(f"tcp:127.0.0.1:{proc.sip_port}" in line for line in proc.lines)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(3)
            sock.sendto(
                b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKa;rport\r\n"
                b"From: <sip:t@x>;tag=1\r\nTo: <sip:s@x>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n"
                b"Content-Length: 0\r\n\r\n",
                ("127.0.0.1", proc.sip_port),
            )
            assert sock.recv(4096).startswith(b"SIP/2.0 200 OK")
    finally:
        code = proc.stop(signal.SIGTERM)
    assert code == 0
    assert "stopping" in proc.lines
    assert not any("Traceback" in line for line in proc.lines)
    assert (tmp_path / "data" / "admin-token").exists()


def test_sigint_also_stops_cleanly(tmp_path: Path) -> None:
    proc = SwitchProcess(tmp_path / "data").start()
    assert proc.stop(signal.SIGINT) == 0


def test_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", port))
        result = run_cli("run", "--sip-host", "127.0.0.1", "--sip-port", str(port),
                         "--http-port", "0", "--data", str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: cannot listen for SIP")
    assert len(result.stderr.strip().splitlines()) == 1


def test_http_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli("run", "--sip-host", "127.0.0.1", "--sip-port", "0",
                         "--http-host", "127.0.0.1", "--http-port", str(port),
                         "--data", str(tmp_path))
    assert result.returncode == 1
    assert "error: cannot listen for HTTP" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_config_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[sip\nport = 5060\n")
    result = run_cli("run", "--config", str(bad))
    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid TOML")
    missing = run_cli("run", "--config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2
    assert "config file not found" in missing.stderr
    plan = tmp_path / "plan.toml"
    plan.write_text("[dialplan]\nextensions = 'abc'\n")
    result = run_cli("run", "--config", str(plan), "--data", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "dialplan" in result.stderr
    assert "Traceback" not in result.stderr
    typo = tmp_path / "typo.toml"
    typo.write_text("[sip]\nprot = 5060\n")
    result = run_cli("run", "--config", str(typo))
    assert "unknown setting 'prot'" in result.stderr


def test_bad_flag_is_refused_without_traceback() -> None:
    result = run_cli("run", "--sip-port", "notaport")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "sip-port" in result.stderr
