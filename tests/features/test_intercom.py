"""Intercom (*80 + extension) over real SIP/RTP sockets on 127.0.0.1: the one phone is called
with the auto-answer headers and the call is two-way; either side's BYE ends both; the
intercom right is enforced (announcement, then 403) unless configured off; a number that is
not an extension gets 404, an unregistered one 480."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.store import Disposition
from tests.calls.harness import closed_record, wait_until
from tests.features.paging_kit import PhoneBook, feature_switch, tone_share


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with feature_switch(tmp_path, rights={"1001": ("intercom",)}) as running:
        yield running


async def test_intercom_auto_answers_one_phone_two_way(switch: Switch, book: PhoneBook) -> None:
    bedside = await book.answering("1002", user_agent="Yealink SIP-T31P")
    other = await book.answering("1004")
    caller = await book.caller("1001")
    assert (await caller.dial("*801002")).status == 200
    [invite] = bedside.invites
    assert invite.headers.get("call-info") == "<sip:127.0.0.1>;answer-after=0"
    assert "Intercom" in (invite.headers.get("from") or "")
    assert other.invites == []
    caller.talk(1000.0)
    await bedside.wait_for("ack")
    bedside.talk(440.0)

    async def both_hear() -> bool:
        return len(bedside.rtp) >= 40 and len(caller.rtp) >= 40

    await wait_until(both_hear, 8)
    assert tone_share(bedside.rtp[-25:], 1000.0) > 0.8
    assert tone_share(caller.rtp[-25:], 440.0) > 0.8
    bedside.hang_up()
    await caller.wait_for("bye")
    assert switch.database is not None

    async def closed() -> bool:
        assert switch.database is not None
        records = await switch.database.cdr.search()
        return len(records) == 2 and all(r.disposition is Disposition.ANSWERED
                                         for r in records)

    await wait_until(closed)
    routes = sorted(r.route for r in await switch.database.cdr.search())
    assert routes == ["feature", "intercom 1002"]


async def test_caller_hanging_up_ends_the_intercom_call(switch: Switch, book: PhoneBook) -> None:
    bedside = await book.answering("1002")
    caller = await book.caller("1001")
    assert (await caller.dial("*801002")).status == 200
    await bedside.wait_for("ack")
    caller.hang_up()
    await bedside.wait_for("bye")


async def test_intercom_without_the_right_is_refused_after_an_announcement(
    switch: Switch, book: PhoneBook
) -> None:
    bedside = await book.answering("1002")
    caller = await book.caller("1003")
    final = await caller.dial("*801002", timeout=20)
    assert final.status == 403
    assert [r.status for r in caller.provisional if r.status > 100] == [183]
    assert len(caller.rtp) > 25
    assert bedside.invites == []


async def test_intercom_to_a_non_extension_is_404_and_to_an_unregistered_one_480(
    switch: Switch, book: PhoneBook
) -> None:
    caller = await book.caller("1001")
    assert (await caller.dial("*809001")).status == 404
    caller2 = await book.caller("1001")
    assert (await caller2.dial("*801009")).status == 480


async def test_intercom_right_can_be_turned_off(tmp_path: Path) -> None:
    async with feature_switch(tmp_path, {"intercom": {"right": ""}}) as switch:
        with PhoneBook(switch) as book:
            bedside = await book.answering("1002")
            caller = await book.caller("1005")
            assert (await caller.dial("*801002")).status == 200
            await bedside.wait_for("ack")
            caller.hang_up()
            await bedside.wait_for("bye")


async def test_caller_cancelling_a_ringing_intercom_cancels_the_phone(
    switch: Switch, book: PhoneBook
) -> None:
    """A phone that does not auto-answer rings; the caller's CANCEL reaches it (487 back)."""
    bedside = await book.answering("1002", mode="ring")
    caller = await book.caller("1001")
    dialling = asyncio.ensure_future(caller.dial("*801002"))
    await bedside.wait_for("invite")
    await asyncio.sleep(0.2)
    assert [r.status for r in caller.provisional if r.status > 100] == [180]
    caller.cancel()
    assert (await asyncio.wait_for(dialling, 10)).status == 487
    await bedside.wait_for("cancel")
    record = await closed_record(switch, "*801002")
    assert record.disposition is Disposition.CANCELLED


async def test_intercom_to_oneself_is_busy(switch: Switch, book: PhoneBook) -> None:
    await book.answering("1001")
    caller = await book.caller("1001")
    assert (await caller.dial("*801001")).status == 486


@pytest.mark.parametrize("dialled", ["*801002", "621"])
async def test_a_caller_offering_no_codec_we_take_gets_488(
    switch: Switch, book: PhoneBook, dialled: str
) -> None:
    """Intercom and paging open the caller's side the same way: a G.729-only offer is 488,
    nothing rings, and the refusal is recorded."""
    bedside = await book.answering("1002")
    caller = await book.caller("1001")
    caller.payload_types = "18"
    assert (await caller.dial(dialled)).status == 488
    assert bedside.invites == []
    assert (await closed_record(switch, dialled)).cause.startswith("488")
