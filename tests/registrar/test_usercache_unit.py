"""The user cache with a version check (fake clock, fake directory)."""

from __future__ import annotations

import asyncio

import pytest

from softswitch.store.records import User
from softswitch.switch.directory import make_user
from softswitch.switch.readcache import UserCache


class Directory:
    """Users by extension, a version number, and counts of what was asked."""

    def __init__(self) -> None:
        self.users = {"1001": make_user("1001", "correct-horse-1", "softswitch")}
        self.version_number = 1
        self.lookups = 0
        self.version_checks = 0
        self.loads = 0
        self.gate: asyncio.Event | None = None

    async def lookup(self, extension: str) -> User | None:
        self.lookups += 1
        user = self.users.get(extension)
        if self.gate is not None:
            await self.gate.wait()
        return user

    async def version(self) -> int:
        self.version_checks += 1
        return self.version_number

    async def load_all(self) -> dict[str, User]:
        self.loads += 1
        if self.gate is not None:
            await self.gate.wait()
        return dict(self.users)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_entries_outlive_the_ttl_while_the_version_is_unchanged() -> None:
    directory, clock = Directory(), Clock()
    cache = UserCache(directory.lookup, clock, ttl=5.0, version=directory.version)
    for _ in range(4):
        assert (await cache.get("1001")) is directory.users["1001"]
        assert await cache.get("9999") is None
        clock.now += 3.0
    assert directory.lookups == 2  # one per name, however long
    assert directory.version_checks == 2  # at 100 and 106 (not 103, 109): once per ttl


async def test_a_new_version_empties_the_cache_at_the_next_check() -> None:
    directory, clock = Directory(), Clock()
    cache = UserCache(directory.lookup, clock, ttl=5.0, version=directory.version)
    await cache.get("1001")
    directory.users["1001"] = make_user("1001", "other-horse-2", "softswitch")
    directory.version_number = 2
    clock.now += 1.0
    assert (await cache.get("1001")).ha1_md5 != directory.users["1001"].ha1_md5  # type: ignore[union-attr]
    clock.now += 5.0
    assert await cache.get("1001") is directory.users["1001"]
    assert directory.lookups == 2


async def test_a_lookup_overtaken_by_an_invalidation_is_not_kept() -> None:
    directory, clock = Directory(), Clock()
    cache = UserCache(directory.lookup, clock, ttl=5.0, version=directory.version)
    directory.gate = asyncio.Event()
    pending = asyncio.ensure_future(cache.get("1001"))
    await asyncio.sleep(0)
    cache.invalidate("1001")  # the API changed the user while the old row was being read
    directory.gate.set()
    await pending
    assert len(cache) == 0


async def test_without_a_version_each_entry_lives_for_the_ttl() -> None:
    directory, clock = Directory(), Clock()
    cache = UserCache(directory.lookup, clock, ttl=5.0)
    await cache.get("1001")
    clock.now += 4.0
    await cache.get("1001")
    clock.now += 2.0
    await cache.get("1001")
    assert directory.lookups == 2


async def test_peek_answers_from_the_cache_only() -> None:
    directory, clock = Directory(), Clock()
    cache = UserCache(directory.lookup, clock, ttl=5.0, version=directory.version)
    assert cache.peek("1001") == (False, None)
    await cache.get("1001")
    await cache.get("9999")
    assert cache.peek("1001") == (True, directory.users["1001"])
    assert cache.peek("9999") == (True, None)  # a known miss
    clock.now += 5.0  # a revalidation is due: only get() may answer now
    assert cache.peek("1001") == (False, None)


async def test_a_whole_table_load_answers_every_user_without_a_read() -> None:
    directory, clock = Directory(), Clock()
    directory.users["1002"] = make_user("1002", "correct-horse-2", "softswitch")
    cache = UserCache(directory.lookup, clock, ttl=5.0, version=directory.version,
                      load_all=directory.load_all)
    await cache.reload()
    assert cache.peek("1002") == (True, directory.users["1002"])  # no get() needed first
    assert await cache.get("1001") is directory.users["1001"]
    assert (directory.loads, directory.lookups) == (1, 0)
    assert await cache.get("1003") is None  # not in the table: read on its own (just added?)
    assert directory.lookups == 1


async def test_a_new_version_refills_the_whole_table_in_one_read() -> None:
    directory, clock = Directory(), Clock()
    cache = UserCache(directory.lookup, clock, ttl=5.0, version=directory.version,
                      load_all=directory.load_all)
    await cache.reload()
    directory.users["1001"] = make_user("1001", "other-horse-2", "softswitch")
    directory.users["1002"] = make_user("1002", "correct-horse-2", "softswitch")
    directory.version_number = 2
    clock.now += 5.0
    assert await cache.get("1001") is directory.users["1001"]
    assert cache.peek("1002") == (True, directory.users["1002"])
    assert (directory.loads, directory.lookups) == (2, 0)


async def test_a_load_overtaken_by_an_invalidation_is_not_kept() -> None:
    directory, clock = Directory(), Clock()
    cache = UserCache(directory.lookup, clock, ttl=5.0, version=directory.version,
                      load_all=directory.load_all)
    directory.gate = asyncio.Event()
    pending = asyncio.ensure_future(cache.reload())
    await asyncio.sleep(0)
    cache.invalidate("1001")  # the API changed the user while the old table was being read
    directory.gate.set()
    await pending
    assert len(cache) == 0
    assert cache.peek("1001") == (False, None)


def test_a_whole_table_copy_needs_a_version() -> None:
    directory, clock = Directory(), Clock()
    with pytest.raises(ValueError, match="needs version"):
        UserCache(directory.lookup, clock, load_all=directory.load_all)
