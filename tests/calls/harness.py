"""A switch in-process with extensions, SIPp callers/callees as subprocesses, bindings by hand.

The callee's registration is written straight into the store (as the registrar would after a
REGISTER), so a test needs no REGISTER round trip; the caller authenticates with MD5 (SIPp
answers only the first challenge, so MD5 is offered first here).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

from softswitch.app import Switch
from softswitch.config import Config, HttpConfig, SecurityConfig, SipConfig
from softswitch.store import Binding, CallRecord
from softswitch.switch.call_settings import CallSettings
from softswitch.switch.directory import make_user
from tests.peers.sipp import sipp_binary
from tests.process import free_port, free_port_block

__all__ = ["Sipp", "add_users", "caller", "calls_config", "closed_record", "passed",
           "place_call", "register", "running_switch", "wait_until"]

SCENARIOS = Path(__file__).parent / "scenarios"
_TRACE = tuple(os.environ.get("SIPP_TRACE", "").split())


async def add_users(switch: Switch, users: dict[str, str]) -> None:
    assert switch.database is not None
    await switch.database.users.add_many([make_user(e, p, switch.realm) for e, p in users.items()])


async def register(switch: Switch, extension: str, port: int, key: str = "") -> None:
    """A live UDP binding of ``extension`` at 127.0.0.1:port, as a REGISTER would leave it."""
    assert switch.database is not None
    now = time.time()
    binding = Binding(
        aor=extension, contact=f"sip:{extension}{key}@127.0.0.1:{port}", expires_at=now + 600,
        call_id=f"reg-{port}", cseq=1, source_host="127.0.0.1", source_port=port,
        transport="UDP", last_seen=now,
    )
    await switch.database.bindings.update(extension, [binding])


class Sipp:
    """One SIPp process (caller or callee), stopped by its PID; every wait is bounded."""

    def __init__(self, scenario: str, *args: str) -> None:
        self.port = free_port()
        self.args = [sipp_binary(), "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1",
                     "-p", str(self.port), "-m", "1", "-nostdin", "-timeout", "20s",
                     "-timeout_error", "-mp", str(free_port_block()), *args, *_TRACE]
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Sipp:
        self.proc = await asyncio.create_subprocess_exec(
            *self.args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        await self._listening()
        return self

    async def _listening(self, timeout: float = 10.0) -> None:
        """Wait (bounded) until SIPp has bound its SIP port: on a loaded machine a request
        sent before that meets a closed port and the call fails with 503, not as scripted.
        Read from /proc/net/udp, since probing by binding could steal the port from SIPp."""
        wanted = f"0100007F:{self.port:04X}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            table = Path("/proc/net/udp").read_text(encoding="ascii")
            if any(line.split()[1] == wanted for line in table.splitlines()[1:]):
                return
            if self.proc is not None and self.proc.returncode is not None:
                return  # it exited: wait() reports why
            await asyncio.sleep(0.02)
        raise AssertionError(f"SIPp did not bind 127.0.0.1:{self.port} within {timeout} s")

    async def wait(self, timeout: float = 15.0) -> tuple[int, str]:
        assert self.proc is not None and self.proc.stdout is not None
        try:
            out = await asyncio.wait_for(self.proc.stdout.read(), timeout)
            code = await asyncio.wait_for(self.proc.wait(), 5)
        except TimeoutError:
            self.stop()
            raise
        return code, out.decode(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)


def caller(scenario: str, switch_port: int, extension: str, password: str, dialled: str,
           tmp: Path) -> Sipp:
    injection = tmp / f"caller-{extension}.csv"
    injection.write_text(
        f"SEQUENTIAL\n{extension};[authentication username={extension} password={password}]\n")
    return Sipp(scenario, f"127.0.0.1:{switch_port}", "-s", dialled, "-inf", str(injection),
                "-auth_uri", f"{dialled}@127.0.0.1:{switch_port}")


async def wait_until(predicate: object, timeout: float = 5.0) -> None:
    """Poll an async predicate every 20 ms, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


def calls_config(tmp: Path) -> Config:
    """A switch on loopback that offers MD5 first (SIPp answers only the first challenge),
    voicemail off: these tests check the switch's own answers to busy and unanswered calls."""
    return Config(
        sip=SipConfig(host="127.0.0.1", port=0, ipv6=False),
        http=HttpConfig(host="127.0.0.1", port=0),
        security=SecurityConfig(digest_algorithms=("MD5", "SHA-256")),
        data_dir=tmp / "data",
        features={"voicemail": {"enabled": False}},
    )


@contextlib.asynccontextmanager
async def started_switch(config: Config, users: dict[str, str],
                         settings: CallSettings | None = None) -> AsyncIterator[Switch]:
    """A switch started from ``config`` (``settings`` if given) with ``users`` added, stopped
    however the test ends: the usual fixture body of a SIP test."""
    switch = Switch(config)
    if settings is not None:
        switch.call_settings = settings
    await switch.start()
    try:
        await add_users(switch, users)
        yield switch
    finally:
        await switch.stop()


def running_switch(tmp: Path, users: dict[str, str], settings: CallSettings | None = None
                   ) -> contextlib.AbstractAsyncContextManager[Switch]:
    """:func:`started_switch` with `calls_config` (``tmp`` for its data)."""
    return started_switch(calls_config(tmp), users, settings)


async def closed_record(switch: Switch, dialled: str) -> CallRecord:
    """The first closed CDR of a call to ``dialled``, waiting (bounded) for it to be written."""
    assert switch.database is not None
    found: list[CallRecord] = []

    async def closed() -> bool:
        assert switch.database is not None
        found[:] = [r for r in await switch.database.cdr.search()
                    if r.dialled == dialled and r.disposition is not None]
        return bool(found)

    await wait_until(closed)
    return found[0]


async def passed(sipp: Sipp) -> None:
    """The SIPp run must end with exit code 0 (every message of its scenario as scripted)."""
    code, out = await sipp.wait()
    assert code == 0, out[:1500] + "\n...\n" + out[-2500:]


async def place_call(
    switch: Switch,
    tmp: Path,
    scenario: str,
    caller_account: tuple[str, str],
    dialled: str = "1002",
    *,
    callees: tuple[str, ...] = (),
    caller_args: tuple[str, ...] = (),
    callees_must_pass: bool = True,
    register_as: str | None = None,
) -> None:
    """One call as most tests make it: each ``callees`` scenario becomes a SIPp phone registered
    as a contact of ``dialled`` (forking when several), then the caller scenario runs. Every
    SIPp must pass (the callees only when ``callees_must_pass``); all are stopped by PID.
    ``register_as`` registers the callees as another extension (a flow that dials it)."""
    phones = [await Sipp(name).start() for name in callees]
    try:
        for n, phone in enumerate(phones):
            await register(switch, register_as or dialled, phone.port,
                           key=f"-{n}" if len(phones) > 1 else "")
        uac = caller(scenario, switch.sip_port, *caller_account, dialled, tmp)
        uac.args += list(caller_args)
        await passed(await uac.start())
        if callees_must_pass:
            for phone in phones:
                await passed(phone)
    finally:
        for phone in phones:
            phone.stop()
