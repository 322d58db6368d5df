"""A small, short-lived cache of directory entries in front of ``users.get``.

Why: every authenticated request needs the user's HA1, and a database round trip per REGISTER
would cap the registrar. Why short-lived: the CLI changes users in the same database while the
switch runs, without telling it, so an entry is trusted for ``ttl`` seconds only (a disabled
phone stops registering within that time). Misses are cached too (unknown names from a
scanner), and the size is bounded because attackers choose the names.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable

from softswitch.store.records import User

__all__ = ["UserCache"]

Lookup = Callable[[str], Awaitable[User | None]]


class UserCache:
    """``get(extension)`` through ``lookup``, remembered for ``ttl`` seconds of ``clock``."""

    def __init__(
        self, lookup: Lookup, clock: Callable[[], float], *, ttl: float = 5.0,
        max_entries: int = 20_000,
    ) -> None:
        if ttl < 0 or max_entries < 1:
            raise ValueError("ttl must be >= 0 and max_entries positive")
        self._lookup = lookup
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[float, User | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, extension: str) -> User | None:
        """The user, or None; at most ``ttl`` seconds old."""
        now = self._clock()
        entry = self._entries.get(extension)
        if entry is not None and entry[0] > now:
            return entry[1]
        user = await self._lookup(extension)
        self._entries[extension] = (now + self._ttl, user)
        self._entries.move_to_end(extension)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return user

    def invalidate(self, extension: str | None = None) -> None:
        """Forget one extension (the API changed it) or everything."""
        if extension is None:
            self._entries.clear()
        else:
            self._entries.pop(extension, None)
