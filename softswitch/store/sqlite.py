"""The one aiosqlite connection the repositories share, with serialised transactions.

Why a lock: one connection sees its own uncommitted writes, so without it a coroutine could
read (or, worse, commit) rows of another coroutine's half-done transaction. Every statement
goes through :meth:`SqliteConnection.transaction` or the fetch helpers, which wait for it.
Writes are acknowledged only after ``COMMIT`` returns, with ``synchronous=FULL``: durable.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

__all__ = ["Params", "SqliteConnection", "Transaction"]

Params = Sequence[Any]


class SqliteConnection:
    """Thin wrapper: fetch helpers for reads, ``transaction()`` for every write."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """All rows of one query."""
        async with self._lock, self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of one query, or None."""
        async with self._lock, self._conn.execute(sql, params) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return row

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` when the body raises."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    async def close(self) -> None:
        """Wait for any transaction in flight, then close."""
        async with self._lock:
            await self._conn.close()


class Transaction:
    """What a transaction body may do: statements whose results it needs, and batches."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        async with self._conn.execute(sql, params) as cursor:
            return int(cursor.rowcount)

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run one INSERT; return the new row id."""
        async with self._conn.execute(sql, params) as cursor:
            return int(cursor.lastrowid or 0)

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        """One statement for many rows (CSV import: one round trip to the worker thread)."""
        await self._conn.executemany(sql, rows)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Read inside the transaction (read-modify-write, e.g. RFC 3261 CSeq checks)."""
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())
