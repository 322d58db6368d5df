"""A cache of store reads by key, for what the switch reads on every request.

Two caches are made of it: `UserCache` (every authenticated request needs the user's HA1, and
a database round trip per REGISTER would cap the registrar) and the contacts of each extension
in `switch/location.py` (every INVITE needs them). The CLI changes the same database while the
switch runs, without telling it, so the cache must notice changes within ``ttl`` seconds (a
disabled phone stops registering within that time). Two ways:

* with ``version`` (a cheap summary of all changes, e.g. SQLite's ``PRAGMA data_version``):
  one call every ``ttl`` seconds for the whole cache, which is emptied when the answer
  differs; entries otherwise stay. One query per ``ttl`` instead of one per user per ``ttl``.
* without it, each entry is trusted for ``ttl`` seconds.

Changes made in this process are told with :meth:`ReadCache.invalidate`. A lookup that
overlapped an invalidation is not kept (it may have read the old rows). Misses are cached too
(unknown names from a scanner), and the size is bounded because attackers choose the names.

With ``load_all`` the cache is filled from the whole table in one query
(:meth:`ReadCache.reload`: at start-up, and again, instead of emptied, whenever the version
changes). Why: after a restart every phone registers again within seconds, and a read per
user, each a trip to the database thread, stalled the registrar for about a second (1,000
users at 1,000 REGISTER/s); a change made with the CLI did the same. A key the table did not
hold is still read on its own, so a user added a moment ago is found at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Generic, TypeVar

from softswitch.store.records import User

__all__ = ["ReadCache", "UserCache"]

T = TypeVar("T")
Version = Callable[[], Awaitable[Hashable]]

_FOREVER = float("inf")


class ReadCache(Generic[T]):
    """``get(key)`` through ``lookup``, revalidated every ``ttl`` seconds of ``clock``."""

    def __init__(
        self, lookup: Callable[[str], Awaitable[T]], clock: Callable[[], float], *,
        ttl: float = 5.0,
        max_entries: int = 20_000, version: Version | None = None,
        load_all: Callable[[], Awaitable[Mapping[str, T]]] | None = None,
    ) -> None:
        if ttl < 0 or max_entries < 1:
            raise ValueError("ttl must be >= 0 and max_entries positive")
        if load_all is not None and version is None:
            raise ValueError("load_all needs version: a whole-table copy must notice changes")
        self._lookup = lookup
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        self._version = version
        self._seen: Hashable = None
        self._checked_at = -_FOREVER
        self._epoch = 0  # bumped when emptied: a lookup that straddles it is not stored
        self._entries: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._load_all = load_all

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> T:
        """The value; changes made elsewhere at most ``ttl`` seconds ago may not show yet."""
        now = self._clock()
        if self._revalidation_due(now):
            await self._revalidate(now)
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        epoch = self._epoch
        value = await self._lookup(key)
        if epoch == self._epoch:
            until = _FOREVER if self._version is not None else now + self._ttl
            self._entries[key] = (until, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return value

    async def reload(self) -> None:
        """Fill the cache from the whole table (``load_all``), e.g. at start-up."""
        assert self._version is not None
        self._checked_at = self._clock()
        self._seen = await self._version()  # before the read: a change during it shows next time
        await self._refill()

    async def _refill(self) -> None:
        """Swap in the whole table. Requests meanwhile use the old entries; a table larger
        than ``max_entries``, or one changed in this process while it was read, is not kept
        (the cache is emptied instead and reads key by key)."""
        assert self._load_all is not None
        epoch = self._epoch
        values = await self._load_all()
        if epoch != self._epoch or len(values) > self._max:
            self.invalidate()
            return
        self._epoch += 1  # a single read that straddled the swap may be older: not kept
        self._entries = OrderedDict((key, (_FOREVER, value)) for key, value in values.items())

    def peek(self, key: str) -> tuple[bool, T | None]:
        """(found, value) from the cache alone, without waiting: found is False when ``get``
        would have to read or revalidate first."""
        now = self._clock()
        if self._revalidation_due(now):
            return False, None
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            return False, None
        return True, entry[1]

    def _revalidation_due(self, now: float) -> bool:
        """A ``version`` check is due ``ttl`` after the last one (or if the clock went back)."""
        return self._version is not None and not (
            self._checked_at <= now < self._checked_at + self._ttl)

    async def _revalidate(self, now: float) -> None:
        """Empty (or, with ``load_all``, refill) the cache if anything changed since the last
        check; one check at a time (requests arriving meanwhile use the entries as they are)."""
        assert self._version is not None
        self._checked_at = now
        version = await self._version()
        if version != self._seen:
            self._seen = version
            if self._load_all is not None:
                await self._refill()
            else:
                self.invalidate()

    def invalidate(self, key: str | None = None) -> None:
        """Forget one key (this process changed it) or everything."""
        self._epoch += 1
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)


# Users by extension: what authentication, hot-desking and the in-call features look up.
UserCache = ReadCache[User | None]
