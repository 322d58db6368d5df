"""SIPp, a real SIP peer, gets its OPTIONS answered over UDP and TCP by `softswitch run`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.sipp import run_sipp
from tests.process import SwitchProcess


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SwitchProcess]:
    proc = SwitchProcess(Path(tmp_path_factory.mktemp("sipp")) / "data").start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.mark.parametrize("transport", ["u1", "t1", "un"])
def test_sipp_options_all_answered(running: SwitchProcess, transport: str) -> None:
    result = run_sipp("options.xml", running.sip_port, transport=transport, calls=200, rate=200)
    assert result.returncode == 0, result.output[-2000:]
    assert result.successful == 200
    assert result.failed == 0
