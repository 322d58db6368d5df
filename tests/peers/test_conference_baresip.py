"""Three real softphones (baresip) in one meet-me room: each plays its own tone and records what
it decodes; every phone hears the other two and never itself (the mixer's N-1 sums)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from softswitch.app import Switch
from softswitch.config import Config, HttpConfig, SecurityConfig, SipConfig
from tests.calls.harness import started_switch, wait_until
from tests.peers.test_call_baresip import Phone, decoded_audio, tone_share, write_tone

USERS = {"1001": "ward-three-a", "1002": "ward-five-bb", "1003": "clinic-c-xx"}
TONES = {"1001": 1000.0, "1002": 1500.0, "1003": 2100.0}
RATE = 8000


@pytest.fixture(autouse=True, scope="module")
def _baresip_installed() -> None:
    """Installed by `make setup`; a missing peer is a failure, never a silent skip."""
    assert shutil.which("baresip"), "baresip is missing: run `make setup` (Debian baresip-core)"


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    config = Config(
        sip=SipConfig(host="127.0.0.1", port=0, ipv6=False),
        http=HttpConfig(host="127.0.0.1", port=0),
        security=SecurityConfig(digest_algorithms=("MD5",)),
        data_dir=tmp_path / "data",
    )
    async with started_switch(config, USERS) as sw:
        yield sw


def windows(samples: np.ndarray, seconds: float = 0.5) -> list[np.ndarray]:
    """Half-overlapping windows of the decoded audio that are not silence."""
    size = int(RATE * seconds)
    cut = [samples[i:i + size] for i in range(0, len(samples) - size, size // 2)]
    return [w for w in cut if float(np.sqrt(np.mean(w**2))) > 0.01]


async def test_three_baresip_phones_each_hear_the_other_two_and_not_themselves(
    switch: Switch, tmp_path: Path
) -> None:
    assert switch.conferences is not None
    conferences, port = switch.conferences, switch.sip_port
    phones = {
        ext: Phone(tmp_path / ext, f"<sip:{ext}@127.0.0.1:{port}>;auth_pass={USERS[ext]};"
                   "regint=0;audio_codecs=PCMU", TONES[ext])
        for ext in USERS
    }
    for phone in phones.values():  # the tone files must outlast the call
        write_tone(phone.dir / "source.wav", TONES[phone.dir.name], seconds=30.0)
    try:
        for n, (ext, phone) in enumerate(phones.items(), start=1):
            await phone.start(f"/dial sip:9001@127.0.0.1:{port}")

            async def joined(count: int = n) -> bool:
                rooms = conferences.rooms()
                return bool(rooms) and len(rooms[0]["members"]) == count

            await wait_until(joined, 15)
        # the newest member hears the count announcement; then all three talk a while
        await asyncio.sleep(6.0)
        [room] = conferences.rooms()
        assert sorted(m["caller"] for m in room["members"]) == sorted(USERS)
        assert all(not m["muted"] for m in room["members"])
    finally:
        await asyncio.gather(*(phone.stop() for phone in phones.values()))
    for ext, phone in phones.items():
        heard = decoded_audio(phone.dir)
        others = [TONES[o] for o in USERS if o != ext]
        parts = windows(heard)
        assert parts, f"{ext} heard nothing"
        both = [w for w in parts if all(tone_share(w, f) > 0.2 for f in others)]
        assert len(both) >= 4, f"{ext} did not hear {others} together for 1 s"
        # while it hears both others, nothing of its own tone (N would give it a third of the
        # energy; 1 % leaves room for a prompt's speech at the edge of a window)
        own = max(tone_share(w, TONES[ext]) for w in both)
        assert own < 0.01, f"{ext} heard itself (share {own:.4f})"
