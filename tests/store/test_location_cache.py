"""Location's cache of contacts: writes through the repository show at once, expiry without
any write, other processes' writes within the ttl, and a lookup racing a write is not kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

from softswitch.store import Binding, Database, open_database
from softswitch.switch.location import Location
from tests.store.conftest import FakeClock
from tests.store.test_bindings import NOW, binding


def contacts(found: list[Binding]) -> list[str]:
    return [b.contact for b in found]


async def test_a_register_through_the_repository_shows_at_the_next_lookup(
    db: Database, clock: FakeClock
) -> None:
    location = Location(db.bindings, clock, ttl=60)
    assert await location.contacts_for("2001") == []  # a miss is cached too
    await db.bindings.update("2001", [binding()])
    assert contacts(await location.contacts_for("2001")) == ["sip:2001@10.0.0.5:5060"]
    await db.bindings.update("2001", [binding("sip:2001@10.0.0.6:5060", q=0.5)])
    assert contacts(await location.contacts_for("2001")) == [
        "sip:2001@10.0.0.5:5060", "sip:2001@10.0.0.6:5060"]
    await db.bindings.remove_all("2001")  # the API deleting the user
    assert await location.contacts_for("2001") == []


async def test_a_repeated_lookup_is_answered_without_the_database(
    db: Database, clock: FakeClock
) -> None:
    location = Location(db.bindings, clock, ttl=60)
    await db.bindings.update("2001", [binding()])
    assert len(await location.contacts_for("2001")) == 1
    # Behind the repository's back (in this process, so no data_version change): unseen.
    await db.connection.write(lambda tx: tx.execute("DELETE FROM bindings"))
    assert len(await location.contacts_for("2001")) == 1


async def test_qualify_marking_unreachable_reorders_at_once(
    db: Database, clock: FakeClock
) -> None:
    location = Location(db.bindings, clock, ttl=60)
    desk, soft = binding("sip:2001@10.0.0.5:5060"), binding("sip:2001@10.0.0.7:5060", q=0.5)
    await db.bindings.update("2001", [desk, soft])
    assert contacts(await location.contacts_for("2001")) == [desk.contact, soft.contact]
    assert await db.bindings.mark_seen("2001", desk.key, now=NOW, reachable=False)
    assert contacts(await location.contacts_for("2001")) == [soft.contact, desk.contact]


async def test_an_expired_binding_is_gone_without_any_write(
    db: Database, clock: FakeClock
) -> None:
    location = Location(db.bindings, clock, ttl=3600)
    await db.bindings.update("2001", [binding(expires_at=NOW + 30)])
    assert len(await location.contacts_for("2001")) == 1
    clock.now = NOW + 31
    assert await location.contacts_for("2001") == []


async def test_another_process_writing_the_file_shows_within_the_ttl(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    location = Location(db.bindings, clock, ttl=2)
    await db.bindings.update("2001", [binding()])
    assert len(await location.contacts_for("2001")) == 1
    other = await open_database(tmp_path / "var", clock=clock)  # as the CLI would
    try:
        await other.bindings.remove_all("2001")
    finally:
        await other.close()
    clock.now = NOW + 2
    assert await location.contacts_for("2001") == []


async def test_a_lookup_that_overlaps_a_write_is_not_kept(
    db: Database, clock: FakeClock
) -> None:
    location = Location(db.bindings, clock, ttl=60)
    await db.bindings.update("2001", [binding()])
    await location.contacts_for("9999")  # the version check is done: the next read is direct
    read, go_on = asyncio.Event(), asyncio.Event()
    real = db.bindings.committed_for_aor

    async def slow(aor: str, now: float) -> list[Binding]:
        found = await real(aor, now)  # the old rows
        read.set()
        await go_on.wait()
        return found

    db.bindings.committed_for_aor = slow  # type: ignore[method-assign]
    lookup = asyncio.ensure_future(location.contacts_for("2001"))
    await asyncio.wait_for(read.wait(), 10)
    await db.bindings.remove_all("2001")
    go_on.set()
    assert len(await asyncio.wait_for(lookup, 10)) == 1  # answered with what it read
    db.bindings.committed_for_aor = real  # type: ignore[method-assign]
    assert await location.contacts_for("2001") == []  # but not kept
