"""Message-waiting indication (RFC 3842) over real SIP on 127.0.0.1: SUBSCRIBE is digest
authenticated and answered 200 with Expires, then NOTIFYs carry the mailbox's summary as it
changes; refresh, unsubscribe and lapse end as RFC 6665 says; phones that only register get
unsolicited NOTIFYs when they register and when a message arrives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.features.mwi import message_summary
from softswitch.sip.message import Request
from tests.calls.harness import started_switch
from tests.features.softphone import Phone
from tests.features.test_voicemail_deposit import USERS, leave_message, voicemail_config


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with started_switch(voicemail_config(tmp_path), USERS) as sw:
        yield sw


def summary(notify: Request) -> dict[str, str]:
    assert notify.headers.get("event") == "message-summary"
    assert notify.headers.get("content-type") == "application/simple-message-summary"
    lines = notify.body.decode().strip().splitlines()
    return {name.strip(): value.strip() for name, _, value in (line.partition(":")
                                                               for line in lines)}


def test_summary_body_follows_rfc3842() -> None:
    assert message_summary("sip:1002@pbx", 2, 1) == (
        b"Messages-Waiting: yes\r\nMessage-Account: sip:1002@pbx\r\n"
        b"Voice-Message: 2/1 (0/0)\r\n")
    assert message_summary("sip:1002@pbx", 0, 3).startswith(b"Messages-Waiting: no\r\n")


async def test_subscription_is_notified_of_new_and_read_messages(switch: Switch,
                                                                 tmp_path: Path) -> None:
    async with Phone(switch.sip_port, "1002", USERS["1002"]) as phone:
        ok = await phone.subscribe(expires=300)
        assert ok.status == 200 and ok.headers.get("expires") == "300"
        first = await phone.next_notify(1)
        assert summary(first) == {"Messages-Waiting": "no",
                                  "Message-Account": "sip:1002@127.0.0.1",
                                  "Voice-Message": "0/0 (0/0)"}
        assert first.headers.get("subscription-state", "").startswith("active;expires=")
        await leave_message(switch, tmp_path)  # 1001 calls 1002, which is not registered
        second = await phone.next_notify(2, timeout=20)
        assert summary(second)["Messages-Waiting"] == "yes"
        assert summary(second)["Voice-Message"] == "1/0 (0/0)"
        assert second.call_id == first.call_id  # in the subscription's dialog
        assert switch.voicemail is not None
        service = switch.voicemail.service
        message = (await service.messages("1002"))[0]
        from softswitch.store import MessageStatus
        await service.mark(message, MessageStatus.OLD)
        third = await phone.next_notify(3)
        assert summary(third)["Voice-Message"] == "0/1 (0/0)"
        assert summary(third)["Messages-Waiting"] == "no"
        await service.delete(message)
        assert summary(await phone.next_notify(4))["Voice-Message"] == "0/0 (0/0)"
        gone = await phone.refresh(0)  # unsubscribe
        assert gone.status == 200
        last = await phone.next_notify(5)
        assert last.headers.get("subscription-state", "").startswith("terminated")
        assert switch.voicemail.mwi.subscriptions("1002") == 0
        assert (await phone.refresh(60)).status == 481


async def test_refresh_extends_and_a_lapsed_subscription_ends(switch: Switch) -> None:
    async with Phone(switch.sip_port, "1002", USERS["1002"]) as phone:
        assert (await phone.subscribe(expires=2)).status == 200
        await phone.next_notify(1)
        refreshed = await phone.refresh(3)
        assert refreshed.status == 200 and refreshed.headers.get("expires") == "3"
        assert (await phone.next_notify(2)).headers.get("subscription-state", "").startswith(
            "active")
        ended = await phone.next_notify(3, timeout=10)  # no refresh: it lapses
        assert ended.headers.get("subscription-state") == "terminated;reason=timeout"


async def test_subscribe_is_authenticated_and_limited_to_ones_own_mailbox(
        switch: Switch) -> None:
    async with Phone(switch.sip_port, "1001", USERS["1001"]) as phone:
        assert (await phone.subscribe(mailbox="1002")).status == 403
        assert (await phone.subscribe(event="presence")).status == 489
    async with Phone(switch.sip_port, "1001", "wrong-password") as phone:
        assert (await phone.subscribe()).status in (401, 403, 407)


async def test_registered_phones_get_unsolicited_notifies(switch: Switch,
                                                          tmp_path: Path) -> None:
    async with Phone(switch.sip_port, "1002", USERS["1002"]) as phone:
        assert (await phone.register()).status == 200  # empty mailbox: no NOTIFY
        # the phone is registered but busy: the call goes to voicemail
        await leave_message(switch, tmp_path)
        lit = await phone.next_notify(1, timeout=30)
        assert summary(lit)["Voice-Message"] == "1/0 (0/0)"
        assert lit.headers.get("subscription-state") == "active"
        assert len(phone.notifies) == 1
    async with Phone(switch.sip_port, "1002", USERS["1002"]) as desk:  # a second phone
        assert (await desk.register()).status == 200
        lamp = await desk.next_notify(1)
        assert summary(lamp)["Messages-Waiting"] == "yes"
        assert (await desk.register()).status == 200  # a refresh: no new NOTIFY
        await desk.register()
        assert len(desk.notifies) == 1
