"""Voicemail: mailboxes on disk and in the store, and where unanswered calls go.

The service owns the files under ``DATA/voicemail/<mailbox>/`` and the rows that describe
them (`softswitch.store.voicemail`); the flows (`voicemail_flows.py`) and the API use it, never
the files directly. Every change of a mailbox's counts is reported to ``on_change`` listeners
(MWI, RFC 3842) after it is committed.

```toml
[voicemail]
enabled = true          # calls to busy, unanswered or unregistered extensions go to voicemail
max_seconds = 120       # longest message
silence_seconds = 5     # this much silence ends a message
min_seconds = 1         # shorter messages (a hang-up after the beep) are not kept
```
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from softswitch.config import ConfigError
from softswitch.store.records import User
from softswitch.store.voicemail import MessageStatus, VoicemailMessage, VoicemailRepository
from softswitch.switch.legs import Call as SwitchCall

__all__ = ["DEPOSIT_FLOW", "MAILBOX_FLOW", "VoicemailService", "VoicemailSettings",
           "voicemail_settings_from"]

log = logging.getLogger(__name__)

DEPOSIT_FLOW = "voicemail"  # leave a message (diverted calls)
MAILBOX_FLOW = "voicemail_mailbox"  # listen to one's own messages (*97)


@dataclass(frozen=True, slots=True)
class VoicemailSettings:
    enabled: bool = True
    max_seconds: float = 120.0
    silence_seconds: float = 5.0
    min_seconds: float = 1.0


def voicemail_settings_from(features: Mapping[str, Any]) -> VoicemailSettings:
    """Read ``[voicemail]``; a wrong key or value stops the switch with a one-line error."""
    raw = features.get("voicemail", {})
    if not isinstance(raw, Mapping):
        raise ConfigError("[voicemail] must be a table")
    defaults = VoicemailSettings()
    unknown = sorted(set(raw) - {"enabled", "max_seconds", "silence_seconds", "min_seconds"})
    if unknown:
        raise ConfigError(f"[voicemail]: unknown setting {unknown[0]!r}")
    enabled = raw.get("enabled", defaults.enabled)
    if not isinstance(enabled, bool):
        raise ConfigError("[voicemail] enabled must be true or false")
    numbers: dict[str, float] = {}
    for key in ("max_seconds", "silence_seconds", "min_seconds"):
        value = raw.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"[voicemail] {key} must be a number of seconds above 0")
        numbers[key] = float(value)
    return VoicemailSettings(enabled=enabled, **numbers)


ChangeListener = Callable[[str], None]


class VoicemailService:
    """Mailboxes: deposit, list, listen, mark, delete, greetings; tells listeners of changes."""

    def __init__(
        self,
        repo: VoicemailRepository,
        users: Callable[[str], Awaitable[User | None]],
        root: Path,
        settings: VoicemailSettings = VoicemailSettings(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.repo = repo
        self.settings = settings
        self.root = root
        self._users = users
        self._clock = clock
        self._listeners: list[ChangeListener] = []

    def on_change(self, listener: ChangeListener) -> None:
        """Call ``listener(mailbox)`` after its message counts may have changed."""
        self._listeners.append(listener)

    def _changed(self, mailbox: str) -> None:
        for listener in self._listeners:
            try:
                listener(mailbox)
            except Exception:
                log.exception("voicemail change listener failed for %s", mailbox)

    # -- the B2BUA's diversion -------------------------------------------------------------

    async def divert(self, call: SwitchCall, reason: str) -> tuple[str, Mapping[str, Any]] | None:
        """A call to a busy, unanswered or unregistered extension: to its mailbox, when the
        extension is a user whose voicemail is on."""
        if not self.settings.enabled or not call.callee:
            return None
        if not await self.has_mailbox(call.callee):
            return None
        return DEPOSIT_FLOW, {"mailbox": call.callee, "reason": reason}

    async def owner(self, mailbox: str) -> User | None:
        """The user whose mailbox this is (PIN check)."""
        return await self._users(mailbox)

    async def has_mailbox(self, mailbox: str) -> bool:
        """A user exists, is enabled and has not switched voicemail off."""
        user = await self._users(mailbox)
        if user is None or not user.enabled:
            return False
        return (await self.repo.settings(mailbox)).enabled

    # -- files -------------------------------------------------------------------------------

    def directory(self, mailbox: str) -> Path:
        return self.root / mailbox

    def new_message_path(self, mailbox: str) -> Path:
        """Where the next message of ``mailbox`` is recorded (its directory is created)."""
        folder = self.directory(mailbox)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(self._clock()))
        return folder / f"{stamp}-{secrets.token_hex(3)}.wav"

    def greeting_path(self, mailbox: str) -> Path:
        """Where a newly recorded greeting is written (then made current by set_greeting)."""
        folder = self.directory(mailbox)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"greeting-{secrets.token_hex(3)}.wav"

    def audio_path(self, message: VoicemailMessage) -> Path:
        return self.root / message.file

    # -- messages ----------------------------------------------------------------------------

    async def deposit(self, mailbox: str, caller: str, path: Path, seconds: float,
                      call_id: str = "") -> VoicemailMessage | None:
        """Keep a recorded message (its file complete); too short a one is removed instead."""
        if seconds < self.settings.min_seconds:
            await _remove(path)
            log.info("voicemail for %s from %s: %.1f s, not kept", mailbox, caller, seconds)
            return None
        message = await self.repo.add(mailbox, caller, self._clock(), round(seconds, 1),
                                      path.relative_to(self.root).as_posix(), call_id)
        log.info("voicemail for %s from %s: %.1f s (message %d)", mailbox, caller, seconds,
                 message.id)
        self._changed(mailbox)
        return message

    async def messages(self, mailbox: str) -> list[VoicemailMessage]:
        return await self.repo.messages(mailbox)

    async def counts(self, mailbox: str) -> tuple[int, int]:
        """(new, old)."""
        return await self.repo.counts(mailbox)

    async def get(self, message_id: int) -> VoicemailMessage | None:
        return await self.repo.get(message_id)

    async def mark(self, message: VoicemailMessage, status: MessageStatus) -> None:
        if message.status is not status and await self.repo.mark(message.id, status):
            self._changed(message.mailbox)

    async def delete(self, message: VoicemailMessage) -> bool:
        """Remove the row, then the file (a crash in between leaves an orphan file, never a
        row without audio)."""
        removed = await self.repo.delete(message.id)
        if removed is None:
            return False
        await _remove(self.audio_path(removed))
        self._changed(message.mailbox)
        return True

    # -- settings ----------------------------------------------------------------------------

    async def greeting(self, mailbox: str) -> Path | None:
        """The owner's recorded greeting, None for the default one."""
        name = (await self.repo.settings(mailbox)).greeting
        path = self.root / name if name else None
        return path if path is not None and path.is_file() else None

    async def set_greeting(self, mailbox: str, path: Path) -> None:
        old = await self.greeting(mailbox)
        await self.repo.set_greeting(mailbox, path.relative_to(self.root).as_posix())
        if old is not None and old != path:
            await _remove(old)

    async def set_enabled(self, mailbox: str, enabled: bool) -> None:
        await self.repo.set_enabled(mailbox, enabled)


async def _remove(path: Path) -> None:
    def unlink() -> None:
        path.unlink(missing_ok=True)

    await asyncio.get_running_loop().run_in_executor(None, unlink)

