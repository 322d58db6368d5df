"""Starting `softswitch run` as a real process for tests, and stopping it by its PID."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["SwitchProcess", "free_port"]

ROOT = Path(__file__).resolve().parent.parent


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            other = socket.SOCK_STREAM if kind == socket.SOCK_DGRAM else socket.SOCK_DGRAM
            with socket.socket(socket.AF_INET, other) as second:
                try:
                    second.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


def free_port_block(size: int = 4) -> int:
    """The first of ``size`` consecutive UDP ports free on 127.0.0.1 right now: SIPp's media
    port ``-mp P`` also binds P+1..P+3 (RTCP, video), which a lone free port does not cover."""
    for _ in range(50):
        first = free_port()
        held: list[socket.socket] = []
        try:
            for port in range(first, first + size):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
        return first
    raise RuntimeError("no free block of ports")


class SwitchProcess:
    """`python -m softswitch run ...` in a subprocess; `start()` waits for its listen lines."""

    def __init__(self, data_dir: Path, *extra: str, sip_port: int = 0, http_port: int = 0) -> None:
        self.args = [
            sys.executable, "-m", "softswitch", "run",
            "--sip-host", "127.0.0.1", "--sip-port", str(sip_port),
            "--http-host", "127.0.0.1", "--http-port", str(http_port),
            "--data", str(data_dir), "--log-level", "warning", *extra,
        ]
        self.cwd = ROOT  # a benchmark may point this at another source tree to compare
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.sip_port = 0
        self.http_port = 0

    def start(self, timeout: float = 20.0) -> SwitchProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            self.args, cwd=self.cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=env,
        )
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip())
            if match := re.search(r"SIP  listening on udp:127\.0\.0\.1:(\d+)", line):
                self.sip_port = int(match.group(1))
            if match := re.search(r"HTTP listening on http://[^:]+:(\d+)", line):
                self.http_port = int(match.group(1))
                return self
        self.stop()
        raise RuntimeError("switch did not start: " + "\n".join(self.lines))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send `sig` to the PID and wait; kill it if it does not exit in time."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        rest = self.proc.stdout.read() if self.proc.stdout else ""
        self.lines.extend(rest.splitlines())
        return self.proc.returncode
