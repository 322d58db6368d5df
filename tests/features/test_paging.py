"""Paging (621) over real SIP/RTP sockets on 127.0.0.1 with our own phones: every registered
phone of the group is called at once with the auto-answer headers, hears the caller's audio
one way and the start beep; the caller's own phone and busy phones are left out; without the
paging right the caller hears an announcement, then 403, and no phone rings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.store import Disposition, HangupSide
from tests.calls.harness import closed_record, wait_until
from tests.features.paging_kit import PhoneBook, feature_switch, tone_share

CALLER_TONE = 1000.0


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with feature_switch(tmp_path, rights={"1001": ("paging",)}) as running:
        yield running


async def records_of(switch: Switch, route: str) -> list:
    assert switch.database is not None
    return [r for r in await switch.database.cdr.search() if r.route == route]


async def test_page_reaches_every_phone_with_auto_answer_and_carries_the_callers_audio(
    switch: Switch, book: PhoneBook
) -> None:
    assert switch.b2bua is not None
    ward = [await book.answering("1002"), await book.answering("1004")]
    own = await book.answering("1001")  # the caller's own desk phone: never paged
    busy = await book.answering("1005")
    in_call = await switch.b2bua.originate("1005")  # 1005 is now in a call: skipped
    caller = await book.caller("1001")
    final = await caller.dial("621")
    assert final.status == 200
    caller.talk(CALLER_TONE)
    for phone in ward:
        await phone.wait_for("ack")
        [invite] = phone.invites
        assert invite.headers.get("call-info") == "<sip:127.0.0.1>;answer-after=0"
        assert invite.headers.get_all("alert-info") == ["info=alert-autoanswer", "Ring Answer"]
        assert "sip:1001@" in (invite.headers.get("from") or "")
    assert own.invites == [] and len(busy.invites) == 1

    async def enough_audio() -> bool:
        return all(len(phone.rtp) >= 60 for phone in ward)  # 1.2 s

    await wait_until(enough_audio, 8)
    for phone in ward:
        assert tone_share(phone.rtp[-25:], CALLER_TONE) > 0.8, "the caller's voice"
        assert tone_share(phone.rtp[:40], 880.0) > 0.05, "the start beep"
    heard = caller.rtp
    assert tone_share(heard, 880.0) + tone_share(heard, 660.0) > 0.5  # the caller hears it
    assert tone_share(heard, CALLER_TONE) < 0.05  # and not itself or the phones
    page = switch.paging.pages() if switch.paging else []
    assert [p["phones"] for p in page] == [["1002", "1004"]]
    caller.hang_up()
    for phone in ward:
        await phone.wait_for("bye")
    records = await records_of(switch, "paging 621")
    assert sorted(r.callee for r in records) == ["1002", "1004"]
    in_call.hangup()

    async def all_closed() -> bool:
        return all(r.disposition is Disposition.ANSWERED
                   for r in await records_of(switch, "paging 621")) and \
            switch.b2bua is not None and switch.b2bua.calls() == []

    await wait_until(all_closed)


async def test_start_beep_is_played_once_for_the_page_not_per_phone(
    switch: Switch, book: PhoneBook
) -> None:
    phones = [await book.answering(str(n)) for n in (1002, 1003, 1004, 1005)]
    caller = await book.caller("1001")
    assert (await caller.dial("621")).status == 200

    async def beep_done() -> bool:
        return len(caller.rtp) >= 75  # 1.5 s: the beep (0.6 s) after the answer wait

    await wait_until(beep_done, 8)
    heard = caller.rtp
    beeps = sum(1 for p in _frames_loud(heard))
    assert 20 <= beeps <= 40, f"one 0.6 s beep is ~30 loud frames, heard {beeps}"
    for phone in phones:
        assert 20 <= sum(1 for p in _frames_loud(phone.rtp)) <= 40
    caller.hang_up()


def _frames_loud(payloads: list[bytes]) -> list[bytes]:
    import numpy as np

    from media.codecs import get_codec

    codec = get_codec("PCMU")
    return [p for p in payloads if float(np.abs(codec.decode(p).astype(float)).mean()) > 500]


async def test_without_the_paging_right_an_announcement_then_403_and_no_phone_rings(
    switch: Switch, book: PhoneBook
) -> None:
    phone = await book.answering("1002")
    caller = await book.caller("1003")
    final = await caller.dial("621", timeout=20)
    assert final.status == 403
    assert [r.status for r in caller.provisional if r.status > 100] == [183]
    assert caller.early_media_address() is not None
    assert len(caller.rtp) > 25, "the announcement came as early media"
    assert phone.invites == []
    record = await closed_record(switch, "621")
    assert record.cause == "403 no paging right"


async def test_a_phone_may_leave_alone_and_the_page_ends_when_the_last_leaves(
    switch: Switch, book: PhoneBook
) -> None:
    first, second = await book.answering("1002"), await book.answering("1004")
    caller = await book.caller("1001")
    assert (await caller.dial("621")).status == 200
    caller.talk(CALLER_TONE)
    await first.wait_for("ack")
    await second.wait_for("ack")
    first.hang_up()
    await asyncio.sleep(0.5)
    before = len(second.rtp)
    await asyncio.sleep(0.5)
    assert len(second.rtp) > before + 10, "the page goes on for the other phone"
    assert caller.byes == 0
    second.hang_up()
    await caller.wait_for("bye")
    records = await records_of(switch, "paging 621")
    assert {r.hangup_side for r in records} == {HangupSide.CALLEE}


async def test_nobody_to_page_gets_480(switch: Switch, book: PhoneBook) -> None:
    await book.answering("1001")  # only the caller's own phone is registered
    caller = await book.caller("1001")
    assert (await caller.dial("621")).status == 480


async def test_caller_cancelling_before_any_answer_cancels_the_ringing_phones(
    switch: Switch, book: PhoneBook
) -> None:
    ringing = await book.answering("1002", mode="ring")
    caller = await book.caller("1001")
    dialling = asyncio.ensure_future(caller.dial("621"))
    await ringing.wait_for("invite")
    await asyncio.sleep(0.3)  # the 407 round is over: the authenticated INVITE rings
    caller.cancel()
    final = await asyncio.wait_for(dialling, 10)
    assert final.status == 487
    await ringing.wait_for("cancel")
    record = await closed_record(switch, "621")
    assert record.disposition is Disposition.CANCELLED


async def test_phones_that_never_answer_end_the_page_with_480(tmp_path: Path) -> None:
    async with feature_switch(tmp_path, {"paging": {"ring_timeout": 1.0}},
                              rights={"1001": ("paging",)}) as switch:
        with PhoneBook(switch) as book:
            ringing = await book.answering("1002", mode="ring")
            caller = await book.caller("1001")
            assert (await caller.dial("621")).status == 480
            await ringing.wait_for("cancel")


async def test_the_callers_maximum_call_duration_ends_the_page(tmp_path: Path) -> None:
    async with feature_switch(tmp_path, {"cos": {"internal": {"max_call_seconds": 1}}},
                              rights={"1001": ("paging",)}) as switch:
        with PhoneBook(switch) as book:
            phone = await book.answering("1002")
            caller = await book.caller("1001")
            assert (await caller.dial("621")).status == 200
            await caller.wait_for("bye", timeout=8)
            await phone.wait_for("bye")
            record = await closed_record(switch, "621")
            assert record.cause == "maximum call duration"


async def test_busy_phones_are_paged_too_when_skip_busy_is_off(tmp_path: Path) -> None:
    async with feature_switch(tmp_path, {"paging": {"skip_busy": False}},
                              rights={"1001": ("paging",)}) as switch:
        with PhoneBook(switch) as book:
            assert switch.b2bua is not None
            busy = await book.answering("1005")
            in_call = await switch.b2bua.originate("1005")
            caller = await book.caller("1001")
            assert (await caller.dial("621")).status == 200
            await busy.wait_for("invite")
            await busy.wait_for("invite")  # the page's INVITE, besides the call it is in
            assert len(busy.invites) == 2
            caller.hang_up()
            in_call.hangup()
