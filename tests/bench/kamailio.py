"""A reference Kamailio (Debian package) started for benchmarks, with a config made per run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["Kamailio", "MODULES"]

MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"

HEADER = """#!KAMAILIO
debug=0
log_stderror=yes
fork=yes
children={children}
tcp_children={children}
auto_aliases=no
listen=udp:127.0.0.1:{port}
listen=tcp:127.0.0.1:{port}
mpath="{modules}"
"""

OPTIONS_ONLY = """
loadmodule "sl.so"
loadmodule "textops.so"
request_route {
    if (is_method("OPTIONS")) { sl_send_reply("200", "OK"); exit; }
    sl_send_reply("404", "Not Here");
}
"""


class Kamailio:
    """Run kamailio in the foreground (-DD) on a private runtime dir; stop it by PID."""

    def __init__(self, port: int, routing: str = OPTIONS_ONLY, children: int = 1,
                 cpu: int | None = None) -> None:
        if shutil.which("kamailio") is None:
            raise RuntimeError("kamailio is not installed: run `make bench-setup`")
        self.dir = Path(tempfile.mkdtemp(prefix="kamailio-"))
        self.config = self.dir / "kamailio.cfg"
        self.config.write_text(
            HEADER.format(port=port, children=children, modules=MODULES) + routing
        )
        self.port = port
        self.cpu = cpu
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Kamailio:
        args = ["kamailio", "-f", str(self.config), "-DD", "-E", "-m", "256", "-M", "16",
                "-Y", str(self.dir), "-P", str(self.dir / "kamailio.pid")]
        if self.cpu is not None:
            args = ["taskset", "-c", str(self.cpu), *args]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        time.sleep(1.5)
        if self.proc.poll() is not None:
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
            raise RuntimeError(f"kamailio did not start:\n{err[-3000:]}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)
