"""Fixtures shared by the whole suite: a switch running in-process on loopback ports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.config import Config, HttpConfig, SipConfig


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    """A switch on 127.0.0.1 with ports chosen free at run time and a fresh data directory."""
    config = Config(
        sip=SipConfig(host="127.0.0.1", port=0, ipv6=False, tcp_partial_timeout=1.0),
        http=HttpConfig(host="127.0.0.1", port=0),
        data_dir=tmp_path / "data",
    )
    sw = Switch(config)
    await sw.start()
    try:
        yield sw
    finally:
        await sw.stop()
