"""baresip (Debian baresip-core 1.0) registers over UDP and TCP, and unregisters on exit.

libre 1.0 fails on any challenge whose algorithm it does not know, even when another one
fits, so this switch offers MD5 alone; SHA-256 is covered by tests/registrar's own client.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.peers.registering import registrations, start_switch
from tests.process import free_port


@pytest.fixture(autouse=True, scope="module")
def _baresip_installed() -> None:
    """Installed by `make setup`; a missing peer is a failure, never a silent skip."""
    assert shutil.which("baresip"), "baresip is missing: run `make setup` (Debian baresip-core)"


def baresip_config(directory: Path, port: int, account: str) -> Path:
    directory.mkdir()
    (directory / "config").write_text(
        f"poll_method epoll\nsip_listen 127.0.0.1:{free_port()}\nnet_interface 127.0.0.1\n"
        "module_path /usr/lib/baresip/modules\nmodule_app account.so\n")
    (directory / "accounts").write_text(account + "\n")
    return directory


def wait_for(predicate: object, timeout: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_baresip_registers_and_unregisters(tmp_path: Path, transport: str) -> None:
    proc = start_switch(tmp_path, '[security]\ndigest_algorithms = ["MD5"]\n',
                        **{"1001": "correct-horse-1"})
    data = tmp_path / "data"
    account = (f"<sip:1001@127.0.0.1:{proc.sip_port};transport={transport}>;"
               "auth_pass=correct-horse-1;regint=600")
    config = baresip_config(tmp_path / "baresip", proc.sip_port, account)
    phone = subprocess.Popen(["baresip", "-f", str(config), "-t", "20"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: registrations(data)), "baresip did not register"
        [row] = registrations(data)
        assert row["extension"] == "1001" and row["transport"] == transport.upper()
        assert str(row["user_agent"]).startswith("baresip")
        if transport == "tcp":
            assert row["connection_id"] is not None
        os.kill(phone.pid, signal.SIGTERM)
        phone.wait(10)
        assert wait_for(lambda: not registrations(data)), "baresip did not unregister"
    finally:
        if phone.poll() is None:
            os.kill(phone.pid, signal.SIGKILL)
            phone.wait(5)
        proc.stop()
