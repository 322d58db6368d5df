"""Registrar bindings (RFC 3261 section 10.3), durable so they survive a restart and kill -9."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence

from softswitch.store.records import Binding
from softswitch.store.sqlite import SqliteConnection, SqliteReader

__all__ = ["BindingRepository"]

_FIELDS = (
    "aor", "binding_key", "contact", "q", "expires_at", "call_id", "cseq", "source_host",
    "source_port", "transport", "connection_id", "user_agent", "path", "instance_id", "reg_id",
    "last_seen", "reachable",
)
_UPSERT = (
    f"INSERT INTO bindings ({', '.join(_FIELDS)}) VALUES ({', '.join('?' * len(_FIELDS))}) "
    "ON CONFLICT (aor, binding_key) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _FIELDS[2:])
)
_SELECT = f"SELECT {', '.join(_FIELDS)} FROM bindings"
_ORDER = "ORDER BY aor, COALESCE(q, 1.0) DESC, last_seen DESC, id"


def _to_row(binding: Binding) -> tuple[object, ...]:
    return (
        binding.aor, binding.key, binding.contact, binding.q, binding.expires_at, binding.call_id,
        binding.cseq, binding.source_host, binding.source_port, binding.transport,
        binding.connection_id, binding.user_agent,
        json.dumps(list(binding.path)) if binding.path else "[]",
        binding.instance_id, binding.reg_id, binding.last_seen, int(binding.reachable),
    )


def _to_binding(row: sqlite3.Row) -> Binding:
    return Binding(
        aor=row["aor"],
        contact=row["contact"],
        expires_at=row["expires_at"],
        call_id=row["call_id"],
        cseq=row["cseq"],
        source_host=row["source_host"],
        source_port=row["source_port"],
        transport=row["transport"],
        q=row["q"],
        connection_id=row["connection_id"],
        user_agent=row["user_agent"],
        path=tuple(json.loads(row["path"])),
        instance_id=row["instance_id"],
        reg_id=row["reg_id"],
        last_seen=row["last_seen"],
        reachable=bool(row["reachable"]),
    )


class BindingRepository:
    """Bindings per address-of-record. Expired rows are invisible to reads even before a purge."""

    def __init__(self, db: SqliteConnection, reader: SqliteReader | None = None) -> None:
        self._db = db
        self._reader = reader
        self._watchers: list[Callable[[str | None], None]] = []

    def watch(self, changed: Callable[[str | None], None]) -> None:
        """Have ``changed(aor)`` called after every write through this repository (None when
        it may touch any AOR), committed or failed, before the writer goes on: a cache of
        bindings in this process then never answers with what the store no longer holds."""
        self._watchers.append(changed)

    def _changed(self, aor: str | None) -> None:
        for changed in self._watchers:
            changed(aor)

    async def version(self) -> int:
        """Changes by other processes since an earlier answer (this repository's own writes
        are told through :meth:`watch`)."""
        return await self._db.data_version()

    async def update(
        self, aor: str, upserts: Sequence[Binding] = (), removals: Iterable[str] = ()
    ) -> None:
        """Apply one REGISTER atomically: insert/refresh ``upserts``, drop the ``removals`` keys.

        Upserts are matched on :attr:`Binding.key`, so a refresh keeps one row per contact.
        """
        await self.post_update(aor, upserts, removals)

    def post_update(
        self, aor: str, upserts: Sequence[Binding] = (), removals: Iterable[str] = ()
    ) -> asyncio.Future[None]:
        """:meth:`update` without a coroutine: the future settles once the change is committed
        (the registrar answers from its callback, with no task per REGISTER)."""
        if any(binding.aor != aor for binding in upserts):
            raise ValueError("every binding must belong to the AOR being updated")
        keys = [(aor, key) for key in removals]
        rows = [_to_row(binding) for binding in upserts]
        statements: list[tuple[str, list[tuple[object, ...]]]] = []
        if keys:
            statements.append(("DELETE FROM bindings WHERE aor = ? AND binding_key = ?", keys))
        if rows:
            statements.append((_UPSERT, rows))
        if not statements:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        written = self._db.post_statements(statements)
        # First callback: watchers hear of the change before whoever posted it goes on.
        written.add_done_callback(lambda _: self._changed(aor))
        return written

    async def remove_all(self, aor: str) -> int:
        """``Contact: *`` with Expires 0 (RFC 3261 section 10.2.2); returns how many went."""
        try:
            return await self._db.write(
                lambda tx: tx.execute("DELETE FROM bindings WHERE aor = ?", (aor,))
            )
        finally:
            self._changed(aor)

    async def for_aor(self, aor: str, now: float) -> list[Binding]:
        """Live bindings of one AOR, highest q first (the order to fork or try them in)."""
        rows = await self._db.fetch_all(
            f"{_SELECT} WHERE aor = ? AND expires_at > ? {_ORDER}", (aor, now)
        )
        return [_to_binding(row) for row in rows]

    async def committed_for_aor(self, aor: str, now: float) -> list[Binding]:
        """Like :meth:`for_aor`, through the read-only connection when there is one: sees
        every acknowledged REGISTER and never waits behind a group commit (the INVITE path)."""
        if self._reader is None:
            return await self.for_aor(aor, now)
        rows = await self._reader.fetch_all(
            f"{_SELECT} WHERE aor = ? AND expires_at > ? {_ORDER}", (aor, now)
        )
        return [_to_binding(row) for row in rows]

    async def active(self, now: float) -> list[Binding]:
        """Every live binding (GET /api/registrations, qualify rounds)."""
        rows = await self._db.fetch_all(f"{_SELECT} WHERE expires_at > ? {_ORDER}", (now,))
        return [_to_binding(row) for row in rows]

    async def mark_seen(self, aor: str, key: str, *, now: float, reachable: bool) -> bool:
        """Record a qualify (OPTIONS / CRLF keep-alive) result; False if the binding is gone."""
        try:
            changed = await self._db.write(
                lambda tx: tx.execute(
                    "UPDATE bindings SET reachable = ?, last_seen = CASE WHEN ? THEN ? "
                    "ELSE last_seen END WHERE aor = ? AND binding_key = ?",
                    (int(reachable), int(reachable), now, aor, key),
                )
            )
        finally:
            self._changed(aor)
        return changed > 0

    async def purge_expired(self, now: float) -> int:
        """Delete bindings past their expiry; returns how many."""
        try:
            return await self._db.write(
                lambda tx: tx.execute("DELETE FROM bindings WHERE expires_at <= ?", (now,))
            )
        finally:
            self._changed(None)
