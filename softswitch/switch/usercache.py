"""A cache of directory entries in front of ``users.get``.

Why: every authenticated request needs the user's HA1, and a database round trip per REGISTER
would cap the registrar. The CLI changes users in the same database while the switch runs,
without telling it, so the cache must notice changes within ``ttl`` seconds (a disabled phone
stops registering within that time). Two ways:

* with ``version`` (a cheap summary of all changes, e.g. SQLite's ``PRAGMA data_version``):
  one call every ``ttl`` seconds for the whole cache, which is emptied when the answer
  differs; entries otherwise stay. One query per ``ttl`` instead of one per user per ``ttl``.
* without it, each entry is trusted for ``ttl`` seconds.

Misses are cached too (unknown names from a scanner), and the size is bounded because
attackers choose the names.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

from softswitch.store.records import User

__all__ = ["UserCache"]

Lookup = Callable[[str], Awaitable[User | None]]
Version = Callable[[], Awaitable[Hashable]]

_FOREVER = float("inf")


class UserCache:
    """``get(extension)`` through ``lookup``, revalidated every ``ttl`` seconds of ``clock``."""

    def __init__(
        self, lookup: Lookup, clock: Callable[[], float], *, ttl: float = 5.0,
        max_entries: int = 20_000, version: Version | None = None,
    ) -> None:
        if ttl < 0 or max_entries < 1:
            raise ValueError("ttl must be >= 0 and max_entries positive")
        self._lookup = lookup
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        self._version = version
        self._seen: Hashable = None
        self._check_at = -_FOREVER
        self._epoch = 0  # bumped when emptied: a lookup that straddles it is not stored
        self._entries: OrderedDict[str, tuple[float, User | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, extension: str) -> User | None:
        """The user, or None; changes made at most ``ttl`` seconds ago may not show yet."""
        now = self._clock()
        if self._version is not None and now >= self._check_at:
            await self._revalidate(now)
        entry = self._entries.get(extension)
        if entry is not None and entry[0] > now:
            return entry[1]
        epoch = self._epoch
        user = await self._lookup(extension)
        if epoch == self._epoch:
            until = _FOREVER if self._version is not None else now + self._ttl
            self._entries[extension] = (until, user)
            self._entries.move_to_end(extension)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return user

    def peek(self, extension: str) -> tuple[bool, User | None]:
        """(found, user) from the cache alone, without waiting: found is False when ``get``
        would have to read or revalidate first."""
        now = self._clock()
        if self._version is not None and now >= self._check_at:
            return False, None
        entry = self._entries.get(extension)
        if entry is None or entry[0] <= now:
            return False, None
        return True, entry[1]

    async def _revalidate(self, now: float) -> None:
        """Empty the cache if anything changed since the last check; one check at a time
        (requests arriving meanwhile use the entries as they are)."""
        assert self._version is not None
        self._check_at = now + self._ttl
        version = await self._version()
        if version != self._seen:
            self._seen = version
            self.invalidate()

    def invalidate(self, extension: str | None = None) -> None:
        """Forget one extension (the API changed it) or everything."""
        self._epoch += 1
        if extension is None:
            self._entries.clear()
        else:
            self._entries.pop(extension, None)
