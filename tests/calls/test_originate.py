"""The switch places calls itself (`B2bua.originate`): over real UDP sockets to answering
phones registered on 127.0.0.1; the answered leg carries media, reports the phone's BYE and
hangs up; nobody answering, every contact refusing and a cancelled originate end cleanly,
each with its CDR."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.store import Binding, Disposition, HangupSide
from softswitch.switch.originate import OriginateError
from tests.calls.harness import calls_config, closed_record, register, wait_until
from tests.features.phone import Phone


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    sw = Switch(calls_config(tmp_path))
    await sw.start()
    try:
        yield sw
    finally:
        await sw.stop()


@pytest.fixture
async def phones() -> AsyncIterator[list[Phone]]:
    made: list[Phone] = []
    yield made
    for phone in made:
        phone.close()


async def register_contacts(switch: Switch, extension: str, ports: list[int]) -> None:
    """Several live UDP contacts of one extension (as several REGISTERs would leave them)."""
    assert switch.database is not None
    now = time.time()
    await switch.database.bindings.update(extension, [
        Binding(aor=extension, contact=f"sip:{extension}-{port}@127.0.0.1:{port}",
                expires_at=now + 600, call_id=f"reg-{port}", cseq=1, source_host="127.0.0.1",
                source_port=port, transport="UDP", last_seen=now)
        for port in ports])


async def phone_of(switch: Switch, phones: list[Phone], extension: str,
                   mode: str = "answer", key: str = "") -> Phone:
    phone = await Phone(mode).start()
    phones.append(phone)
    await register(switch, extension, phone.sip_port, key=key)
    return phone


async def test_originate_rings_the_extension_with_extra_headers_and_returns_its_media(
    switch: Switch, phones: list[Phone]
) -> None:
    assert switch.b2bua is not None and switch.media is not None
    phone = await phone_of(switch, phones, "1002")
    leg = await switch.b2bua.originate(
        "1002", caller_id="621", display_name="Paging",
        headers=[("Call-Info", "<sip:HOST>;answer-after=0")], purpose="test originate")
    [invite] = phone.invites
    assert invite.headers.get("call-info") == "<sip:127.0.0.1>;answer-after=0"
    assert "Paging <sip:621@127.0.0.1>" in (invite.headers.get("from") or "")
    await phone.wait_for("ack")
    assert leg.number == "1002" and not leg.ended
    assert leg.media.stream.remote == ("127.0.0.1", phone.rtp_port)
    # the media leg is ours to use: a tone played to it reaches the phone as RTP
    from media.tones import ToneSpec
    await switch.media.play(leg.media, [ToneSpec("t", (1000.0,), ((200, 0),))])
    assert len(phone.rtp) >= 5
    assert switch.b2bua.find(leg.id) is not None  # listed with the calls in progress
    ended: list[tuple[str, HangupSide]] = []
    leg.on_end(lambda cause, side: ended.append((cause, side)))
    leg.hangup("test done")
    await phone.wait_for("bye")
    assert ended == [("test done", HangupSide.SWITCH)]
    record = await closed_record(switch, "1002")
    assert record.route == "test originate" and record.caller == "621"
    assert record.disposition is Disposition.ANSWERED
    assert switch.database is not None
    [leg_row] = await switch.database.cdr.legs(leg.id)  # no caller's leg A: one outbound leg
    assert leg_row.direction == "outbound" and leg_row.disposition is Disposition.ANSWERED


async def test_phone_hanging_up_is_reported(switch: Switch,
                                            phones: list[Phone]) -> None:
    assert switch.b2bua is not None
    phone = await phone_of(switch, phones, "1002")
    leg = await switch.b2bua.originate("1002")
    await phone.wait_for("ack")
    ended = asyncio.Event()
    sides: list[HangupSide] = []
    leg.on_end(lambda cause, side: (sides.append(side), ended.set()))
    phone.hang_up()
    await asyncio.wait_for(ended.wait(), 5)
    assert sides == [HangupSide.CALLEE] and leg.ended
    record = await closed_record(switch, "1002")
    assert record.hangup_side is HangupSide.CALLEE
    assert switch.b2bua.calls() == []


async def test_first_contact_to_answer_wins_the_others_are_cancelled(
    switch: Switch, phones: list[Phone]
) -> None:
    assert switch.b2bua is not None
    ringing = await Phone("ring").start()
    answering = await Phone().start()
    phones += [ringing, answering]
    await register_contacts(switch, "1002", [ringing.sip_port, answering.sip_port])
    leg = await switch.b2bua.originate("1002")
    assert leg.contact.source_port == answering.sip_port
    await ringing.wait_for("cancel")
    leg.hangup()
    await answering.wait_for("bye")


async def test_no_answer_times_out_with_408_and_cancels(
    switch: Switch, phones: list[Phone]
) -> None:
    assert switch.b2bua is not None
    phone = await phone_of(switch, phones, "1002", "ring")
    with pytest.raises(OriginateError) as failure:
        await switch.b2bua.originate("1002", timeout=0.5)
    assert failure.value.status == 408
    await phone.wait_for("cancel")
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.NO_ANSWER


async def test_refusal_and_unregistered_raise_with_the_status(
    switch: Switch, phones: list[Phone]
) -> None:
    assert switch.b2bua is not None
    await phone_of(switch, phones, "1002", "486")
    with pytest.raises(OriginateError) as busy:
        await switch.b2bua.originate("1002")
    assert busy.value.status == 486
    with pytest.raises(OriginateError) as absent:
        await switch.b2bua.originate("1003")
    assert absent.value.status == 480
    with pytest.raises(OriginateError) as nowhere:
        await switch.b2bua.originate("621")
    assert nowhere.value.status == 404
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.BUSY


async def test_cancelling_originate_cancels_the_ringing_phone(
    switch: Switch, phones: list[Phone]
) -> None:
    assert switch.b2bua is not None
    phone = await phone_of(switch, phones, "1002", "ring")
    task = asyncio.ensure_future(switch.b2bua.originate("1002"))
    await phone.wait_for("invite")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await phone.wait_for("cancel")
    record = await closed_record(switch, "1002")
    assert record.disposition is Disposition.CANCELLED

    async def no_calls() -> bool:
        assert switch.b2bua is not None
        return switch.b2bua.calls() == []

    await wait_until(no_calls)


async def test_outside_number_goes_out_through_the_trunk_with_its_caller_id(
    tmp_path: Path, phones: list[Phone]
) -> None:
    """An outside number is routed by the dial plan (access code 9, class of service that may
    dial local numbers) to the trunk, whose from_user is the caller id the provider sees."""
    from dataclasses import replace

    provider = await Phone().start()
    phones.append(provider)
    features = {
        "trunks": {"carrier": {"host": "127.0.0.1", "port": provider.sip_port,
                               "from_user": "075512345600"}},
        "dialplan": {"routes": [{"prefix": "9", "trunk": "carrier", "strip": 1}]},
    }
    sw = Switch(replace(calls_config(tmp_path), features=features))
    await sw.start()
    try:
        assert sw.b2bua is not None
        leg = await sw.b2bua.originate("983001234", caller_id="1001", cos="local",
                                       purpose="follow-me")
        [invite] = provider.invites
        assert str(invite.uri).startswith("sip:83001234@127.0.0.1")
        assert "075512345600" in (invite.headers.get("from") or "")
        assert leg.call.trunk == "carrier"
        leg.hangup()
        await provider.wait_for("bye")
        with pytest.raises(OriginateError) as refused:
            await sw.b2bua.originate("983001234", cos="internal")  # may not dial out
        assert refused.value.status == 403
    finally:
        await sw.stop()
