"""A page reaches several real softphones at once (Debian baresip-core), auto-answered, and
carries the caller's audio to each of them, one way.

The caller (baresip, 1001, paging right) plays a 1 kHz tone; three baresip phones registered
as 1002-1004 answer the page by themselves (answermode=auto, as a bedside or desk phone set to
auto-answer does) and play 440 Hz. Each phone's decoded audio (sndfile dump) must be the
caller's tone; the caller must not hear the phones (the page is one-way).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from softswitch.app import Switch
from softswitch.store import Disposition
from tests.calls.harness import wait_until
from tests.features.paging_kit import PASSWORD, start_switch
from tests.peers.test_call_baresip import RATE, Phone, decoded_audio, tone_share

CALLER_TONE, PHONE_TONE = 1000.0, 440.0
PAGED = ("1002", "1003", "1004")


@pytest.fixture(autouse=True, scope="module")
def _baresip_installed() -> None:
    """Installed by `make setup`; a missing peer is a failure, never a silent skip."""
    assert shutil.which("baresip"), "baresip is missing: run `make setup` (Debian baresip-core)"


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    sw = await start_switch(tmp_path, rights={"1001": ("paging",)}, digest=("MD5",))
    try:
        yield sw
    finally:
        await sw.stop()


def account(extension: str, port: int, extra: str = "") -> str:
    return (f"<sip:{extension}@127.0.0.1:{port}>;auth_pass={PASSWORD};regint=60;"
            f"audio_codecs=PCMU{extra}")


async def test_page_reaches_several_baresip_phones_with_the_callers_audio(
    switch: Switch, tmp_path: Path
) -> None:
    assert switch.location is not None and switch.b2bua is not None
    port, location = switch.sip_port, switch.location
    phones = [Phone(tmp_path / ext, account(ext, port, ";answermode=auto"), PHONE_TONE)
              for ext in PAGED]
    caller = Phone(tmp_path / "caller", account("1001", port), CALLER_TONE)
    try:
        for phone in phones:
            await phone.start()

        async def all_registered() -> bool:
            return all([await location.contacts_for(ext) for ext in PAGED])

        await wait_until(all_registered, 10)
        await caller.start(f"/dial sip:621@127.0.0.1:{port}")

        async def everyone_paged() -> bool:
            assert switch.paging is not None
            pages = switch.paging.pages()
            return bool(pages) and pages[0]["phones"] == list(PAGED)

        await wait_until(everyone_paged, 10)
        await asyncio.sleep(2.0)  # two seconds of the page
    finally:
        await caller.stop()
        for phone in phones:
            await phone.stop()
    for phone in phones:
        heard = decoded_audio(phone.dir)
        middle = heard[len(heard) // 3: len(heard) * 5 // 6]  # after the start beep
        assert len(middle) >= RATE // 2
        assert float(np.sqrt(np.mean(middle**2))) > 0.05, f"{phone.dir.name} heard silence"
        assert tone_share(middle, CALLER_TONE) > 0.8, phone.dir.name
        assert tone_share(middle, PHONE_TONE) < 0.01, phone.dir.name
    heard_by_caller = decoded_audio(caller.dir)
    assert tone_share(heard_by_caller, PHONE_TONE) < 0.01  # one-way: no phone is heard

    async def all_closed() -> bool:
        assert switch.database is not None
        records = [r for r in await switch.database.cdr.search() if r.route == "paging 621"]
        return len(records) == 3 and all(r.disposition is Disposition.ANSWERED for r in records)

    await wait_until(all_closed, 8)

