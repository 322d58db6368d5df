"""Call recording: on demand (``*1`` toggles it, with a beep both sides hear) and always on
by policy (an extension, a department or a trunk), stereo files linked from the CDR.

A recording taps the call's media bridge: channel 1 is the caller (leg A), channel 2 the
callee (leg B), 8 kHz 16-bit WAV under ``DATA/recordings/YYYY-MM-DD/``; the WAV header is
rewritten every second, so a crash leaves a playable file of all but the last second. Each
start is a new file, linked from ``cdr.recording`` at once. Files older than the retention
period are deleted, and unlinked, by a daily purge.

```toml
[recording]
key = "*1"                  # in-call key that toggles recording ("" turns it off)
extensions = ["1002"]       # always record calls from or to these extensions,
departments = ["ICU"]       # to or from members of these departments,
trunks = ["pstn"]           # and through these trunks
retention_days = 90         # 0 keeps recordings for ever
```
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from media import MediaEngine, Recording
from media.tones import BEEP
from softswitch.config import ConfigError
from softswitch.store.recordings import RecordingRepository
from softswitch.store.records import User
from softswitch.switch.legs import Call, CallState

__all__ = ["RecordingService", "RecordingSettings", "recording_settings_from"]

log = logging.getLogger(__name__)

PURGE_INTERVAL = 24 * 3600.0
FIRST_PURGE = 600.0


@dataclass(frozen=True, slots=True)
class RecordingSettings:
    key: str = "*1"
    extensions: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()
    trunks: frozenset[str] = frozenset()
    retention_days: float = 90.0


def recording_settings_from(features: Mapping[str, Any]) -> RecordingSettings:
    """Read ``[recording]``; a wrong key or value stops the switch with a one-line error."""
    raw = features.get("recording", {})
    if not isinstance(raw, Mapping):
        raise ConfigError("[recording] must be a table")
    known = {"key", "extensions", "departments", "trunks", "retention_days"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"[recording]: unknown setting {unknown[0]!r}")
    key = raw.get("key", "*1")
    if not isinstance(key, str) or (key and not set(key) <= set("0123456789*#")):
        raise ConfigError("[recording] key must be DTMF keys like \"*1\" (or \"\" for none)")
    lists: dict[str, frozenset[str]] = {}
    for name in ("extensions", "departments", "trunks"):
        value = raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"[recording] {name} must be a list of names")
        lists[name] = frozenset(value)
    days = raw.get("retention_days", 90)
    if isinstance(days, bool) or not isinstance(days, int | float) or days < 0:
        raise ConfigError("[recording] retention_days must be a number of days, 0 or more")
    return RecordingSettings(key=key, retention_days=float(days), **lists)


@dataclass(eq=False)
class _Active:
    recording: Recording
    file: str


@dataclass
class _CallRecordings:
    active: _Active | None = None
    count: int = 0
    watched: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RecordingService:
    """Starts and stops recordings of bridged calls and keeps the CDR's links to them."""

    def __init__(self, media: MediaEngine, repo: RecordingRepository,
                 users: Callable[[str], Awaitable[User | None]], root: Path,
                 settings: RecordingSettings = RecordingSettings(),
                 clock: Callable[[], float] = time.time) -> None:
        self.media = media
        self.repo = repo
        self.root = root
        self.settings = settings
        self._users = users
        self._clock = clock
        self._calls: dict[str, _CallRecordings] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def recording(self, call_id: str) -> bool:
        """Is ``call_id`` being recorded now?"""
        state = self._calls.get(call_id)
        return state is not None and state.active is not None

    # -- hooks ---------------------------------------------------------------------------
    def bridged(self, call: Call) -> None:
        """B2BUA hook: a call's legs were connected; record it if a policy says so. No task
        when no policy is configured (a task per call set-up for nothing, otherwise)."""
        s = self.settings
        if s.trunks or s.extensions or s.departments:
            self._spawn(self._apply_policy(call))

    async def _apply_policy(self, call: Call) -> None:
        if await self.policy_applies(call):
            log.info("call %s: recorded by policy", call.id)
            await self.start(call, beep=False)

    async def policy_applies(self, call: Call) -> bool:
        s = self.settings
        if call.trunk is not None and call.trunk in s.trunks:
            return True
        parties = [call.caller, call.callee]
        if any(party in s.extensions for party in parties):
            return True
        if s.departments:
            for party in parties:
                user = await self._users(party) if party else None
                if user is not None and user.department in s.departments:
                    return True
        return False

    async def toggle(self, call: Call) -> bool:
        """The in-call key: start recording, or stop it; True when recording now."""
        if self.recording(call.id):
            await self.stop(call, beep=True)
            return False
        return await self.start(call, beep=True)

    # -- recording -------------------------------------------------------------------------
    async def start(self, call: Call, *, beep: bool) -> bool:
        """Record the call's bridge into a new file (beeping to both sides first)."""
        state = self._calls.setdefault(call.id, _CallRecordings())
        async with state.lock:
            bridge = call.bridge
            if state.active is not None or bridge is None or call.state is not CallState.ANSWERED:
                return state.active is not None
            if not state.watched:
                state.watched = True
                call.on_end.append(lambda cause, side: self._spawn(self._ended(call)))
            if beep:
                await self.media.play(bridge, [BEEP], barge_in=False)
            state.count += 1
            day = time.strftime("%Y-%m-%d", time.localtime(self._clock()))
            name = f"{day}/{_safe(call.id)}-{state.count}.wav"
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            recording = await self.media.record(bridge, path, stereo=True)
            state.active = _Active(recording, name)
            if not await self.repo.add_file(call.id, name):
                log.warning("call %s: recording %s has no call record to link to", call.id, name)
            log.info("call %s: recording to %s", call.id, path)
            return True

    async def stop(self, call: Call, *, beep: bool) -> None:
        state = self._calls.get(call.id)
        if state is None:
            return
        async with state.lock:
            active, state.active = state.active, None
            if active is None:
                return
            await self.media.stop_recording(active.recording)
            log.info("call %s: recording %s finished", call.id, active.file)
            if beep and call.bridge is not None and call.state is CallState.ANSWERED:
                await self.media.play(call.bridge, [BEEP], barge_in=False)

    async def _ended(self, call: Call) -> None:
        await self.stop(call, beep=False)
        self._calls.pop(call.id, None)

    # -- retention -------------------------------------------------------------------------
    async def purge(self) -> int:
        """Delete recordings older than the retention period; returns how many files."""
        if self.settings.retention_days <= 0:
            return 0
        cutoff = self._clock() - self.settings.retention_days * 86400
        names = await self.repo.expire(cutoff)

        def unlink() -> None:
            for name in names:
                (self.root / name).unlink(missing_ok=True)

        await asyncio.get_running_loop().run_in_executor(None, unlink)
        if names:
            log.info("recordings: %d file(s) past retention deleted", len(names))
        return len(names)

    async def run_purges(self, interval: float = PURGE_INTERVAL,
                         first: float = FIRST_PURGE) -> None:
        """Purge ``first`` seconds after the start (not while the switch is still starting
        or about to be stopped again), then every ``interval`` seconds."""
        await asyncio.sleep(first)
        while True:
            try:
                await self.purge()
            except Exception:
                log.exception("purging recordings failed")
            await asyncio.sleep(interval)

    async def close(self) -> None:
        """Finish every recording (the switch is stopping)."""
        for call_id, state in list(self._calls.items()):
            if state.active is not None:
                await self.media.stop_recording(state.active.recording)
                state.active = None
        self._calls.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("recording failed", exc_info=task.exception())


def _safe(call_id: str) -> str:
    """A Call-ID as a file name (they contain '@' and may contain anything)."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in call_id)[:80]
