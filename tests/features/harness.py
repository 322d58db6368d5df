"""Helpers for feature tests: a switch with phones, SIPp peers from this directory, and an RTP
phone of our own (a media engine leg) that presses keys on a call like a real phone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from media import Leg as MediaLeg
from media import MediaEngine, MediaFormat
from softswitch.app import Switch
from softswitch.switch.legs import Call, CallLeg, CallState
from tests.calls.harness import Sipp, caller

__all__ = ["SCENARIOS", "answered_call", "key_phone", "scenario", "talking_caller"]

SCENARIOS = Path(__file__).parent / "scenarios"


def scenario(name: str) -> str:
    """A scenario of tests/features/scenarios (Sipp takes an absolute path as it is)."""
    return str(SCENARIOS / name)


def talking_caller(switch: Switch, extension: str, password: str, dialled: str, tmp: Path,
                   talk_ms: int) -> Sipp:
    """A SIPp caller that stays in the call ``talk_ms`` then hangs up."""
    uac = caller(scenario("uac_talk.xml"), switch.sip_port, extension, password, dialled, tmp)
    uac.args += ["-d", str(talk_ms)]
    return uac


async def answered_call(switch: Switch, timeout: float = 10.0, *, caller: str | None = None,
                        exclude: tuple[str, ...] = ()) -> Call:
    """The first answered call (from ``caller``), waiting a bounded time for it."""
    assert switch.b2bua is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for summary in switch.b2bua.calls():
            call = switch.b2bua.find(summary["call_id"])
            if (call is not None and call.state is CallState.ANSWERED and call.id not in exclude
                    and (caller is None or call.caller == caller)):
                return call
        await asyncio.sleep(0.02)
    raise AssertionError("no answered call in time")


@asynccontextmanager
async def key_phone(leg: CallLeg) -> AsyncIterator[tuple[MediaEngine, MediaLeg]]:
    """Our own RTP endpoint aimed at the switch's side of ``leg``: what it sends, the switch
    takes as that phone's media (the SIPp phone sends no RTP, so ours is latched)."""
    engine = MediaEngine(port_range=None)
    await engine.start()
    try:
        phone = await engine.open_leg(MediaFormat("PCMA", 8, 101),
                                      remote=("127.0.0.1", leg.media.stream.local[1]))
        yield engine, phone
    finally:
        await engine.close()
