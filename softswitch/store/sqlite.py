"""The one aiosqlite connection the repositories share: serialised access and group commit.

Why a lock: one connection sees its own uncommitted writes, so without it a coroutine could
read (or, worse, commit) rows of another coroutine's half-done transaction.

Why group commit: with ``synchronous=FULL`` every COMMIT waits for the disk (about 2 ms here),
which would cap REGISTER handling near 500/s. :meth:`SqliteConnection.write` queues the
operation; whoever holds the lock next runs *all* queued operations in one transaction, each
inside its own SAVEPOINT (so one failing operation rolls back only itself), commits once, and
only then resolves every caller. A write is still acknowledged only after it is on disk.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import aiosqlite

from softswitch.store.errors import StoreError

__all__ = ["Params", "SqliteConnection", "Transaction"]

Params = Sequence[Any]
T = TypeVar("T")
Operation = Callable[["Transaction"], Awaitable[Any]]


class SqliteConnection:
    """Fetch helpers for reads, :meth:`write` for every change."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._queue: list[tuple[Operation, asyncio.Future[Any]]] = []

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """All rows of one query."""
        async with self._lock, self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of one query, or None."""
        async with self._lock, self._conn.execute(sql, params) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return row

    async def write(self, operation: Callable[[Transaction], Awaitable[T]]) -> T:
        """Run ``operation`` in a transaction; return its result once it is committed.

        If ``operation`` raises, its changes are rolled back and the exception propagates;
        operations batched with it are not affected.
        """
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((operation, done))
        async with self._lock:
            if not done.done():
                await self._run_batch()
        return done.result()

    async def _run_batch(self) -> None:
        batch, self._queue = self._queue, []
        isolate = len(batch) > 1  # a lone operation needs no savepoint: ROLLBACK is enough
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        tx = Transaction(self._conn)
        try:
            await self._conn.execute("BEGIN IMMEDIATE")
            for operation, done in batch:
                if isolate:
                    await self._conn.execute("SAVEPOINT op")
                try:
                    result = await operation(tx)
                except Exception as error:  # noqa: BLE001 - handed to that operation's caller
                    await self._conn.execute("ROLLBACK TO op" if isolate else "ROLLBACK")
                    outcomes.append((done, None, error))
                else:
                    outcomes.append((done, result, None))
                if isolate:
                    await self._conn.execute("RELEASE op")
            if self._conn.in_transaction:
                await self._conn.execute("COMMIT")
        except BaseException as error:
            if self._conn.in_transaction:
                await self._conn.execute("ROLLBACK")
            failure = error if isinstance(error, Exception) else StoreError("write cancelled")
            for _, done in batch:
                if not done.done():
                    done.set_exception(failure)
            raise
        for done, result, error in outcomes:
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(result)

    async def close(self) -> None:
        """Wait for any transaction in flight, then close."""
        async with self._lock:
            await self._conn.close()


class Transaction:
    """What a write operation may do: statements, batches, and reads that see its own writes."""

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
