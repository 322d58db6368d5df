"""Checking a mailbox: *97 over real SIP/RTP with DTMF (PIN, listen, delete, save), messages
surviving a restart; the HTTP API (httpx) and `softswitch voicemail` (CliRunner)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from softswitch.app import Switch
from softswitch.cli import app as cli
from softswitch.features.voicemail import VoicemailService
from softswitch.store import MessageStatus, VoicemailMessage, open_database
from softswitch.switch.directory import hash_pin, make_user, verify_pin
from tests.calls.harness import add_users
from tests.features.softphone import Phone, dominant_frequency, tone
from tests.features.test_voicemail_deposit import (
    USERS,
    leave_message,
    loud_frequency,
    voicemail_config,
)

PIN = "2468"


async def started(tmp_path: Path, users: bool) -> Switch:
    switch = Switch(voicemail_config(tmp_path))
    await switch.start()
    if users:
        await add_users(switch, USERS)
    return switch


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    sw = await started(tmp_path, users=True)
    try:
        yield sw
    finally:
        await sw.stop()


async def test_star97_plays_deletes_and_saves_messages_after_a_restart(tmp_path: Path) -> None:
    switch = await started(tmp_path, users=True)
    try:
        assert switch.database is not None
        await switch.database.users.set_voicemail_pin_hash("1002", hash_pin(PIN))
        await leave_message(switch, tmp_path, words_hz=600.0)
        await leave_message(switch, tmp_path, words_hz=800.0)
        assert switch.voicemail is not None
        first, second = await switch.voicemail.service.messages("1002")
    finally:
        await switch.stop()
    switch = await started(tmp_path, users=False)  # same data directory
    try:
        service = switch.voicemail.service  # type: ignore[union-attr]
        async with Phone(switch.sip_port, "1002", USERS["1002"]) as phone:
            assert (await phone.call("*97")).status == 200
            await phone.send_digits(f"{PIN}#1")  # PIN, then 1: listen (type-ahead)
            heard = await phone.wait_for_tone(600.0, timeout=40)
            await phone.send_digits("7")  # delete the first message
            await phone.wait_for_tone(800.0, timeout=40, after=heard)
            await phone.send_digits("9")  # save the second
            await phone.send_digits("*")  # back in the main menu: hang up
            await phone.wait_for_bye(timeout=40)
        messages = await service.messages("1002")
        assert [(m.id, m.status) for m in messages] == [(second.id, MessageStatus.OLD)]
        assert not service.audio_path(first).exists()
        assert await service.counts("1002") == (0, 1)
    finally:
        await switch.stop()


async def test_wrong_pin_three_times_hangs_up(switch: Switch) -> None:
    assert switch.database is not None
    await switch.database.users.set_voicemail_pin_hash("1002", hash_pin(PIN))
    async with Phone(switch.sip_port, "1002", USERS["1002"]) as phone:
        assert (await phone.call("*97")).status == 200
        await phone.send_digits("1111#2222#3333#")
        await phone.wait_for_bye(timeout=60)


async def deposit(switch: Switch, tmp_path: Path, hz: float) -> int:
    """A message as the deposit flow leaves it (the SIP path is tested above)."""
    assert switch.voicemail is not None
    service = switch.voicemail.service
    path = service.new_message_path("1002")
    sf.write(str(path), tone(hz, 2.0), 8000, subtype="PCM_16")
    message = await service.deposit("1002", "1001", path, 2.0, "call-x")
    assert message is not None
    return message.id


async def test_api_lists_fetches_marks_and_deletes(switch: Switch, tmp_path: Path) -> None:
    message_id = await deposit(switch, tmp_path, 600.0)
    base = f"http://127.0.0.1:{switch.http_port}"
    auth = {"Authorization": f"Bearer {switch.admin_token}"}
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=10) as client:
        listed = (await client.get("/api/voicemail/1002")).json()
        assert (listed["new"], listed["old"]) == (1, 0)
        item = listed["messages"][0]
        assert (item["id"], item["caller"], item["status"]) == (message_id, "1001", "new")
        audio = await client.get(item["audio"])
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
        samples, rate = sf.read(__import__("io").BytesIO(audio.content), dtype="int16")
        assert rate == 8000 and abs(dominant_frequency(np.asarray(samples)) - 600) < 10
        marked = await client.patch(f"/api/voicemail/1002/{message_id}", json={"status": "old"})
        assert marked.status_code == 200 and marked.json()["status"] == "old"
        bad = await client.patch(f"/api/voicemail/1002/{message_id}", json={"status": "x"})
        assert bad.status_code == 422
        assert (await client.get("/api/voicemail/12ab")).status_code == 422
        assert (await client.get(f"/api/voicemail/1001/{message_id}/audio")).status_code == 404
        assert (await client.delete(f"/api/voicemail/1002/{message_id}")).status_code == 204
        assert (await client.delete(f"/api/voicemail/1002/{message_id}")).status_code == 404
        assert (await client.get("/api/voicemail/1002")).json()["messages"] == []
        assert (await client.get("/api/voicemail/1002",
                                 headers={"Authorization": "Bearer no"})).status_code == 401
        off = await client.put("/api/voicemail/1002/settings", json={"enabled": False})
        assert off.status_code == 200 and off.json()["enabled"] is False
        assert not await switch.voicemail.service.has_mailbox("1002")  # type: ignore[union-attr]
        assert (await client.put("/api/voicemail/7777/settings",
                                 json={"enabled": True})).status_code == 404
        assert (await client.put("/api/voicemail/1002/settings", json={})).status_code == 422


def test_cli_lists_deletes_sets_pin_and_switches_off(tmp_path: Path) -> None:
    data = tmp_path / "var"

    async def prepare() -> int:
        db = await open_database(data)
        try:
            await db.users.add(make_user("1002", USERS["1002"], "softswitch"))
            service = VoicemailService(db.voicemail, db.users.get, data / "voicemail")
            path = service.new_message_path("1002")
            sf.write(str(path), tone(700.0, 2.0), 8000, subtype="PCM_16")
            message = await service.deposit("1002", "1001", path, 2.0)
            assert message is not None
            return message.id
        finally:
            await db.close()

    async def stored() -> tuple[list[VoicemailMessage], bool, str | None]:
        db = await open_database(data)
        try:
            user = await db.users.get("1002")
            enabled = (await db.voicemail.settings("1002")).enabled
            return await db.voicemail.messages("1002"), enabled, user and user.voicemail_pin_hash
        finally:
            await db.close()

    message_id = asyncio.run(prepare())
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["voicemail", *args, "--data", str(data)])
        return result.exit_code, result.output

    code, out = run("list", "1002")
    assert code == 0 and f"{message_id}" in out and "1001" in out and "new" in out, out
    code, out = run("list", "1002", "--json")
    assert code == 0 and '"caller": "1001"' in out
    assert run("list", "9999") == (0, "no messages for 9999\n")
    code, out = run("list", "x1")
    assert code == 2 and "error:" in out
    code, out = run("pin", "1002", "12")
    assert code == 2 and "4 to 12 digits" in out
    assert run("pin", "1002", "13579")[0] == 0
    assert run("off", "1002")[0] == 0
    code, out = run("off", "5555")
    assert code != 0 and "5555" in out
    messages, enabled, pin_hash = asyncio.run(stored())
    assert len(messages) == 1 and not enabled and pin_hash and verify_pin("13579", pin_hash)
    assert run("delete", "1002", str(message_id))[0] == 0
    code, out = run("delete", "1002", str(message_id))
    assert code == 2 and "no message" in out
    assert asyncio.run(stored())[0] == []
    assert not list((data / "voicemail" / "1002").glob("*.wav"))


def test_loud_frequency_helper_finds_the_tone() -> None:
    assert abs(loud_frequency(tone(600.0, 1.0)) - 600) < 10


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_voicemail_prompt_exists(language: str) -> None:
    import re

    from softswitch.features import voicemail_flows
    from softswitch.flows import PromptLibrary

    source = Path(voicemail_flows.__file__).read_text(encoding="utf-8")
    names = set(re.findall(r'"(vm_[a-z_]+|goodbye)"', source))
    assert len(names) > 10
    library = PromptLibrary(fallback=language)
    for name in sorted(names):
        assert library.path(name, language).is_file()


async def test_star97_records_a_greeting_that_callers_then_hear(switch: Switch) -> None:
    async with Phone(switch.sip_port, "1002", USERS["1002"]) as owner:  # no PIN set
        assert (await owner.call("*97")).status == 200
        await owner.send_digits("3")  # record a greeting
        await owner.wait_for_tone(1000.0, timeout=30)
        await owner.say(tone(750.0, 1.5))
        await owner.send_digits("#")
        await owner.send_digits("*")
        await owner.wait_for_bye(timeout=40)
    assert switch.voicemail is not None
    greeting = await switch.voicemail.service.greeting("1002")
    assert greeting is not None and abs(loud_frequency(sf.read(str(greeting),
                                                               dtype="int16")[0]) - 750) < 15
    async with Phone(switch.sip_port, "1001", USERS["1001"]) as caller:
        assert (await caller.call("1002")).status == 200
        await caller.wait_for_tone(750.0, timeout=20)  # the owner's greeting
        await caller.wait_for_tone(1000.0, timeout=20)  # then the beep
        await caller.hangup()
