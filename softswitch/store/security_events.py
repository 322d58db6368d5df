"""The security log: who tried what from where, readable through the API."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from softswitch.store.records import SecurityEvent, SecurityEventKind
from softswitch.store.sqlite import SqliteConnection

__all__ = ["SecurityEventRepository"]

_INSERT = "INSERT INTO security_events (at, kind, source, user, detail) VALUES (?, ?, ?, ?, ?)"


def _to_event(row: sqlite3.Row) -> SecurityEvent:
    return SecurityEvent(
        at=row["at"],
        kind=SecurityEventKind(row["kind"]),
        source=row["source"],
        user=row["user"],
        detail=row["detail"],
        id=row["id"],
    )


class SecurityEventRepository:
    """Append-only log with a pruning hook so it cannot grow without bound."""

    def __init__(self, db: SqliteConnection) -> None:
        self._db = db

    async def record(self, event: SecurityEvent) -> int:
        """Append one event; returns its id."""
        return await self._db.write(lambda tx: tx.insert(_INSERT, _params(event)))

    async def record_many(self, events: Iterable[SecurityEvent]) -> None:
        """Append a batch in one commit (under attack, one fsync per event would be the limit)."""
        rows = [_params(event) for event in events]
        await self._db.write(lambda tx: tx.execute_many(_INSERT, rows))

    async def recent(
        self,
        limit: int = 100,
        *,
        kind: SecurityEventKind | None = None,
        source: str | None = None,
        before_id: int | None = None,
    ) -> list[SecurityEvent]:
        """Newest first; ``before_id`` pages backwards through older events."""
        clauses: list[str] = []
        params: list[object] = []
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind.value)
        if source is not None:
            clauses.append("source = ?")
            params.append(source)
        if before_id is not None:
            clauses.append("id < ?")
            params.append(before_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._db.fetch_all(
            f"SELECT * FROM security_events {where} ORDER BY id DESC LIMIT ?",
            (*params, max(0, limit)),
        )
        return [_to_event(row) for row in rows]

    async def prune(self, before: float) -> int:
        """Delete events older than ``before``; returns how many."""
        return await self._db.write(
            lambda tx: tx.execute("DELETE FROM security_events WHERE at < ?", (before,))
        )


def _params(event: SecurityEvent) -> tuple[object, ...]:
    return (event.at, event.kind.value, event.source, event.user, event.detail)
