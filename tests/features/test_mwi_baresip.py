"""baresip (Debian baresip-core, module mwi) subscribes to its mailbox's message-summary; the
switch authenticates it and keeps the subscription, and the NOTIFY for a new message is
shown by baresip's menu module (its "MWI for ..." event)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import soundfile as sf

from softswitch.app import Switch
from softswitch.config import SecurityConfig
from tests.calls.harness import started_switch, wait_until
from tests.features.softphone import tone
from tests.features.test_voicemail_deposit import USERS, voicemail_config
from tests.process import free_port


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    base = voicemail_config(tmp_path)  # libre 1.0 answers MD5 challenges only
    config = dataclasses.replace(base, security=SecurityConfig(digest_algorithms=("MD5",)))
    async with started_switch(config, USERS) as sw:
        yield sw


async def test_baresip_subscribes_and_accepts_the_notify(switch: Switch, tmp_path: Path) -> None:
    assert shutil.which("baresip"), "baresip is missing: run `make setup` (Debian baresip-core)"
    folder = tmp_path / "baresip"
    folder.mkdir()
    (folder / "config").write_text(
        f"poll_method epoll\nsip_listen 127.0.0.1:{free_port()}\nnet_interface 127.0.0.1\n"
        "module_path /usr/lib/baresip/modules\nmodule_app account.so\nmodule_app mwi.so\n"
        "module_app menu.so\n")
    (folder / "accounts").write_text(
        f"<sip:1002@127.0.0.1:{switch.sip_port};transport=udp>;"
        f"auth_pass={USERS['1002']};regint=600;mwi=yes\n")
    phone = await asyncio.create_subprocess_exec(
        "baresip", "-f", str(folder), "-t", "60", stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output: list[str] = []

    async def read() -> None:
        assert phone.stdout is not None
        async for line in phone.stdout:
            output.append(line.decode(errors="replace"))

    reader = asyncio.ensure_future(read())

    def printed(text: str):  # type: ignore[no-untyped-def]
        async def check() -> bool:
            return text in "".join(output)
        return check

    try:
        assert switch.voicemail is not None
        mwi = switch.voicemail.mwi

        async def subscribed() -> bool:
            return mwi.subscriptions("1002") == 1

        await wait_until(subscribed, timeout=20)
        await wait_until(printed("Voice-Message: 0/0 (0/0)"), timeout=10)  # menu prints MWI
        service = switch.voicemail.service  # a message arrives (the SIP path: test_mwi.py)
        path = service.new_message_path("1002")
        sf.write(str(path), tone(600.0, 2.0), 8000, subtype="PCM_16")
        assert await service.deposit("1002", "1001", path, 2.0) is not None
        await wait_until(printed("Messages-Waiting: yes"), timeout=10)
        assert "Voice-Message: 1/0 (0/0)" in "".join(output)
        assert mwi.subscriptions("1002") == 1  # the NOTIFY was accepted
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(phone.pid, signal.SIGKILL)
        await asyncio.wait_for(phone.wait(), 10)
        await asyncio.wait_for(reader, 10)
