"""Fixtures shared by the engine tests over loopback (test_engine.py, test_relay_udp.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from media.engine import MediaEngine
from tests.media.test_engine import Peer


@pytest.fixture
async def engine() -> AsyncIterator[MediaEngine]:
    eng = MediaEngine(port_range=None, rtcp_mux=True, run_clock=False)
    await eng.start()
    yield eng
    await eng.close()


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    made = [Peer(ssrc=0x100 + i) for i in range(4)]
    yield made
    for p in made:
        p.close()
