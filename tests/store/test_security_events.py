"""SecurityEventRepository: the security log."""

from __future__ import annotations

from softswitch.store import Database, SecurityEvent, SecurityEventKind

NOW = 1_700_000_000.0
FAILED, BLOCKED = SecurityEventKind.AUTH_FAILED, SecurityEventKind.SOURCE_BLOCKED


async def test_record_and_read_back_newest_first(db: Database) -> None:
    first = await db.security_events.record(
        SecurityEvent(NOW, FAILED, "203.0.113.9", user="2001", detail="wrong response")
    )
    second = await db.security_events.record(SecurityEvent(NOW + 1, BLOCKED, "203.0.113.9"))
    assert second > first
    events = await db.security_events.recent()
    assert events == [
        SecurityEvent(at=NOW + 1, kind=BLOCKED, source="203.0.113.9", id=second),
        SecurityEvent(NOW, FAILED, "203.0.113.9", "2001", "wrong response", id=first),
    ]


async def test_filters_and_paging(db: Database) -> None:
    await db.security_events.record_many(
        SecurityEvent(at=NOW + i, kind=FAILED if i % 2 else BLOCKED, source=f"192.0.2.{i % 3}")
        for i in range(30)
    )
    page = await db.security_events.recent(limit=5)
    assert [e.at for e in page] == [NOW + 29 - i for i in range(5)]
    older = await db.security_events.recent(limit=5, before_id=page[-1].id)
    assert [e.at for e in older] == [NOW + 24 - i for i in range(5)]
    blocked = await db.security_events.recent(limit=100, kind=BLOCKED)
    assert len(blocked) == 15 and all(e.kind is BLOCKED for e in blocked)
    from_one = await db.security_events.recent(limit=100, source="192.0.2.1", kind=FAILED)
    assert {e.source for e in from_one} == {"192.0.2.1"} and len(from_one) == 5


async def test_prune_drops_old_events(db: Database) -> None:
    await db.security_events.record_many(
        SecurityEvent(at=NOW + i, kind=FAILED, source="x") for i in range(10)
    )
    assert await db.security_events.prune(before=NOW + 4) == 4
    assert min(e.at for e in await db.security_events.recent()) == NOW + 4
