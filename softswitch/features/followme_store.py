"""Per-extension line settings: call waiting and the follow-me list (table ``line_settings``,
migration 8). No row means the defaults: call waiting on, no follow-me."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from softswitch.store.sqlite import SqliteConnection

__all__ = ["LineSettings", "LineSettingsError", "LineSettingsRepository"]

_NUMBER = re.compile(r"\+?[0-9]{1,32}")
MAX_FOLLOW_ME = 5


class LineSettingsError(ValueError):
    """Settings that cannot be stored (the API's 422, the CLI's message)."""


@dataclass(frozen=True, slots=True)
class LineSettings:
    """``follow_me``: numbers rung one after the other (``ring_seconds`` each) when the desk
    phone does not answer, is busy or is not registered."""

    extension: str
    call_waiting: bool = True
    follow_me: tuple[str, ...] = ()
    ring_seconds: int = 20

    def __post_init__(self) -> None:
        if len(self.follow_me) > MAX_FOLLOW_ME:
            raise LineSettingsError(f"follow-me takes at most {MAX_FOLLOW_ME} numbers")
        for number in self.follow_me:
            if not _NUMBER.fullmatch(number):
                raise LineSettingsError(f"follow-me number {number!r} must be 1-32 digits")
            if number == self.extension:
                raise LineSettingsError("follow-me cannot ring the extension itself")
        if not 5 <= self.ring_seconds <= 120:
            raise LineSettingsError("ring_seconds must be between 5 and 120")


class LineSettingsRepository:
    """The table, plus a short-lived copy for the call path (`recent`).

    ``fresh_for`` seconds bound how stale `recent` may be after another process (the CLI)
    changed a row; a change through `put` here is seen by the next call at once.
    """

    def __init__(self, db: SqliteConnection, *, clock: Callable[[], float] = time.monotonic,
                 fresh_for: float = 2.0) -> None:
        self._db = db
        self._clock = clock
        self._fresh_for = fresh_for
        self._recent: dict[str, tuple[float, LineSettings]] = {}
        self._puts = 0  # a read that started before a put must not cache what it read

    async def get(self, extension: str) -> LineSettings:
        """From the database (the API and the CLI show what is stored)."""
        puts = self._puts
        row = await self._db.fetch_one(
            "SELECT call_waiting, follow_me, ring_seconds FROM line_settings "
            "WHERE extension = ?", (extension,))
        if row is None:
            settings = LineSettings(extension)
        else:
            numbers = tuple(n for n in row["follow_me"].split(",") if n)
            settings = LineSettings(extension, bool(row["call_waiting"]), numbers,
                                    row["ring_seconds"])
        if puts == self._puts:
            self._recent[extension] = (self._clock(), settings)
        return settings

    async def recent(self, extension: str) -> LineSettings:
        """The settings as read at most ``fresh_for`` seconds ago. Why: the busy check runs
        on every INVITE to a phone already in a call, and a database read there was one
        trip to the database thread per call set-up."""
        cached = self._recent.get(extension)
        if cached is not None and self._clock() - cached[0] < self._fresh_for:
            return cached[1]
        return await self.get(extension)

    async def put(self, settings: LineSettings) -> None:
        await self._db.write(lambda tx: tx.execute(
            "INSERT INTO line_settings (extension, call_waiting, follow_me, ring_seconds) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (extension) DO UPDATE SET "
            "call_waiting = excluded.call_waiting, follow_me = excluded.follow_me, "
            "ring_seconds = excluded.ring_seconds",
            (settings.extension, int(settings.call_waiting), ",".join(settings.follow_me),
             settings.ring_seconds)))
        self._puts += 1
        self._recent[settings.extension] = (self._clock(), settings)
