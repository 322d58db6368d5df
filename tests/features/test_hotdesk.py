"""Hot-desking over real SIP and RTP: 1002 logs in at the ward's desk phone 1105 (``*111002``
and the PIN keyed as RFC 4733 events), then calls to 1002 ring 1105 and calls from 1105 are
made as 1002; the login survives a restart of the switch; ``*12`` logs out."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from softswitch.app import Switch
from softswitch.switch.directory import make_user
from softswitch.switch.legs import Call
from tests.calls.harness import (
    Sipp,
    caller,
    calls_config,
    closed_record,
    passed,
    register,
    wait_until,
)
from tests.features.harness import answered_call, key_phone

PASSWORDS = {"1001": "caller-pass-a", "1002": "doctor-pass-b", "1105": "desk-pass-c"}


async def started(tmp: Path) -> Switch:
    switch = Switch(calls_config(tmp))
    await switch.start()
    assert switch.database is not None
    if await switch.database.users.get("1002") is None:
        await switch.database.users.add_many([
            make_user(e, p, switch.realm, voicemail_pin="4321" if e == "1002" else None)
            for e, p in PASSWORDS.items()])
    return switch


async def logins(switch: Switch) -> dict[str, str]:
    assert switch.database is not None
    rows = await switch.database.connection.fetch_all(
        "SELECT phone, extension FROM hotdesk_logins")
    return {row["phone"]: row["extension"] for row in rows}


async def prompting(switch: Switch, call: Call, timeout: float = 10.0) -> None:
    """Wait (bounded) until the flow plays its PIN prompt: keys sent now are collected."""
    assert switch.media is not None and call.a is not None
    deadline = time.monotonic() + timeout
    while switch.media.stats(call.a.media).packets_sent == 0:
        assert time.monotonic() < deadline, "no prompt played"
        await asyncio.sleep(0.05)


async def log_in(switch: Switch, tmp: Path, pin: str) -> None:
    """1105 dials *111002 and keys ``pin``; the switch hangs up after the PIN."""
    uac = caller("call_uac_wait_bye.xml", switch.sip_port, "1105", PASSWORDS["1105"], "*111002",
                 tmp)
    try:
        await uac.start()
        call = await answered_call(switch)
        assert call.a is not None and switch.media is not None
        await prompting(switch, call)
        async with key_phone(call.a) as (engine, phone):
            for _ in range(3 if pin != "4321" else 1):
                await engine.send_digits(phone, pin + "#")
            await passed(uac)
    finally:
        uac.stop()


async def call_1002_reaches_the_desk_phone(switch: Switch, tmp: Path) -> None:
    desk = await Sipp("call_uas_answer.xml").start()
    uac = caller("call_uac_auth.xml", switch.sip_port, "1001", PASSWORDS["1001"], "1002", tmp)
    try:
        await register(switch, "1105", desk.port)
        await passed(await uac.start())
        await passed(desk)
    finally:
        uac.stop()
        desk.stop()


async def test_login_moves_calls_and_identity_and_survives_a_restart(tmp_path: Path) -> None:
    switch = await started(tmp_path)
    try:
        await log_in(switch, tmp_path, "9999")  # wrong PIN three times: no login
        assert await logins(switch) == {}
        await log_in(switch, tmp_path, "4321")
        assert await logins(switch) == {"1105": "1002"}
    finally:
        await switch.stop()
    switch = await started(tmp_path)  # the login is stored, not only in memory
    try:
        await call_1002_reaches_the_desk_phone(switch, tmp_path)
        # a call from the desk phone is made as 1002
        callee = await Sipp("call_uas_answer.xml").start()
        uac = caller("call_uac_auth.xml", switch.sip_port, "1105", PASSWORDS["1105"], "1001",
                     tmp_path)
        try:
            await register(switch, "1001", callee.port)
            await passed(await uac.start())
            await passed(callee)
        finally:
            uac.stop()
            callee.stop()
        assert (await closed_record(switch, "1001")).caller == "1002"
        # *12 from the desk phone logs out: 1002 is not reachable there any more
        out = caller("call_uac_wait_bye.xml", switch.sip_port, "1105", PASSWORDS["1105"], "*12",
                     tmp_path)
        try:
            await passed(await out.start())
        finally:
            out.stop()

        async def logged_out() -> bool:
            return await logins(switch) == {}

        await wait_until(logged_out)
        refused = caller("call_uac_480.xml", switch.sip_port, "1001", PASSWORDS["1001"], "1002",
                         tmp_path)
        try:
            await passed(await refused.start())
        finally:
            refused.stop()
    finally:
        await switch.stop()
