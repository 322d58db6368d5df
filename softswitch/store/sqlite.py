"""The one aiosqlite connection the repositories share: serialised access and group commit.

Why a lock: one connection sees its own uncommitted writes, so without it a coroutine could
read (or, worse, commit) rows of another coroutine's half-done transaction.

Why group commit: with ``synchronous=FULL`` every COMMIT waits for the disk (about 2 ms here),
which would cap REGISTER handling near 500/s. :meth:`SqliteConnection.write` queues the
operation; whoever holds the lock next runs *all* queued operations in one transaction and
commits once, and only then resolves every caller (if one operation fails, the batch is
retried one operation per transaction, so a failure undoes only its own operation). A write is
still acknowledged only after it is on disk.

Why :meth:`SqliteConnection.write_statements`: every awaited statement is a round trip to
aiosqlite's worker thread and a wake-up of the event loop, and a REGISTER's write used to cost
three (BEGIN, the upserts, COMMIT). A batch made only of plain statements runs as one function
on the worker thread instead: one trip per batch, however many registrations it carries.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import aiosqlite

from softswitch.store.errors import StoreError

__all__ = ["Params", "SqliteConnection", "SqliteReader", "Statements", "Transaction"]

Params = Sequence[Any]
Statements = Sequence[tuple[str, Sequence[Params]]]  # (sql, rows) run with executemany
T = TypeVar("T")
Operation = Callable[["Transaction"], Awaitable[Any]]


class _StatementOperation:
    """A write that is only statements: runnable as an ordinary operation, or on the worker
    thread together with the rest of its batch."""

    __slots__ = ("statements",)

    def __init__(self, statements: Statements) -> None:
        self.statements = statements

    async def __call__(self, tx: Transaction) -> None:
        for sql, rows in self.statements:
            await tx.execute_many(sql, rows)


def _commit_statements(conn: sqlite3.Connection, groups: list[Statements]) -> None:
    """On the worker thread: BEGIN, every statement of every group, COMMIT (or ROLLBACK)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statements in groups:
            for sql, rows in statements:
                conn.executemany(sql, rows)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _fetch_one(conn: sqlite3.Connection, sql: str, params: Params) -> sqlite3.Row | None:
    """On the worker thread: the first row of one query."""
    cursor = conn.execute(sql, params)
    try:
        row: sqlite3.Row | None = cursor.fetchone()
        return row
    finally:
        cursor.close()


def _settle(done: asyncio.Future[Any], result: Any = None, error: BaseException | None = None
            ) -> None:
    """Hand a write's outcome to its future, unless its waiter gave up (cancelled it): the
    write itself stands, and the rest of the batch must still be told theirs."""
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)


class SqliteConnection:
    """Fetch helpers for reads, :meth:`write` for every change."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._queue: list[tuple[Operation, asyncio.Future[Any]]] = []
        self._drainer: asyncio.Task[None] | None = None  # runs posted writes (post_statements)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """All rows of one query (one trip to the database thread, not three: execute,
        fetch and close through a cursor each wake it and then the event loop)."""
        async with self._lock:
            return list(await self._conn.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of one query, or None (one trip to the database thread)."""
        conn = self._conn
        async with self._lock:
            row: sqlite3.Row | None = await conn._execute(_fetch_one, conn._conn, sql, params)
            return row

    async def data_version(self) -> int:
        """SQLite's ``data_version``: it differs from an earlier answer when another
        connection, such as the CLI in another process, has committed since."""
        row = await self.fetch_one("PRAGMA data_version")
        return int(row[0]) if row is not None else 0

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

    async def write_statements(self, statements: Statements) -> None:
        """Like :meth:`write` for a change that is only ``executemany`` statements (no reads,
        no results): batched the same way, but a batch of such writes costs one trip to the
        database thread."""
        await self.write(_StatementOperation(statements))

    def post_statements(self, statements: Statements) -> asyncio.Future[None]:
        """Queue a write of only statements and return at once: the future settles when it
        is committed (or failed). Batched with every other write as :meth:`write_statements`
        is, but the caller needs no task of its own to wait in: one drain task runs the
        batches while posts keep coming (a call's record writes cost no task each)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((_StatementOperation(statements), done))
        if self._drainer is None:
            self._drainer = asyncio.ensure_future(self._drain())
        return done

    async def _drain(self) -> None:
        try:
            while self._queue:
                async with self._lock:
                    if self._queue:
                        await self._run_batch()
        finally:
            self._drainer = None

    async def _run_batch(self) -> None:
        """Run the queued operations in one transaction and commit once.

        Optimistic: operations run back to back without savepoints (each savepoint would be
        two more trips to the database thread). If one fails, the whole transaction is rolled
        back and the operations are retried one transaction each, so a failing operation
        still undoes only itself and its caller alone sees the error.
        """
        batch, self._queue = self._queue, []
        if all(isinstance(op, _StatementOperation) for op, _ in batch):
            # Its own task: if the caller running the batch is cancelled, the others' writes
            # still settle (they may be on disk already) before the lock is let go.
            job = asyncio.ensure_future(self._run_statement_batch(batch))
            try:
                await asyncio.shield(job)
            except asyncio.CancelledError:
                await job
                raise
            return
        if len(batch) > 1:
            try:
                results = await self._transaction([op for op, _ in batch])
            except _OperationFailed:
                pass
            else:
                for (_, done), result in zip(batch, results, strict=True):
                    _settle(done, result)
                return
        for operation, done in batch:
            try:
                (result,) = await self._transaction([operation])
            except _OperationFailed as failed:
                _settle(done, error=failed.error)
            else:
                _settle(done, result)

    async def _run_statement_batch(self, batch: list[tuple[Operation, asyncio.Future[Any]]]) -> None:
        """The batch in one worker-thread call; on failure, one call per operation."""
        groups = [op.statements for op, _ in batch]  # type: ignore[attr-defined]
        if len(groups) > 1:
            try:
                await self._on_worker(groups)
            except Exception:  # noqa: BLE001 - retried one by one below, which reports it
                pass
            else:
                for _, done in batch:
                    _settle(done, None)
                return
        for statements, (_, done) in zip(groups, batch, strict=True):
            try:
                await self._on_worker([statements])
            except Exception as error:  # noqa: BLE001 - handed to that operation's caller
                _settle(done, error=error)
            else:
                _settle(done, None)

    async def _on_worker(self, groups: list[Statements]) -> None:
        """Run `_commit_statements` on aiosqlite's thread. aiosqlite has no public call for
        "run this function on the connection's thread", so this uses its `_execute`."""
        conn = self._conn
        await conn._execute(_commit_statements, conn._conn, groups)

    async def _transaction(self, operations: list[Operation]) -> list[Any]:
        """BEGIN, run every operation, COMMIT; any failure rolls back and is re-raised."""
        tx = Transaction(self._conn)
        results: list[Any] = []
        try:
            await self._conn.execute("BEGIN IMMEDIATE")
            for operation in operations:
                try:
                    results.append(await operation(tx))
                except Exception as error:  # noqa: BLE001 - handed to that operation's caller
                    raise _OperationFailed(error) from error
            await self._conn.execute("COMMIT")
        except BaseException as error:
            if self._conn.in_transaction:
                await self._conn.execute("ROLLBACK")
            if isinstance(error, _OperationFailed):
                raise
            failure = error if isinstance(error, Exception) else StoreError("write cancelled")
            raise _OperationFailed(failure) from error
        return results

    async def close(self) -> None:
        """Wait for any transaction in flight and every posted write, then close."""
        while self._drainer is not None:
            await asyncio.wait([self._drainer])
        async with self._lock:
            await self._conn.close()


class SqliteReader:
    """A second, read-only connection for reads on the call path (the callee's contacts).

    Why: the writer's lock is held across each group commit's fsync (1-100 ms on a busy
    disk), so a read through :class:`SqliteConnection` waits for other calls' CDR writes.
    In WAL mode this connection reads beside the writer and sees every *committed* write
    (not one still in flight: use it only where that is enough, e.g. bindings that a
    REGISTER's 200 OK already acknowledged). One trip to its own thread per read.
    """

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """All rows of one query, as committed."""
        return list(await self._conn.execute_fetchall(sql, params))

    async def close(self) -> None:
        await self._conn.close()


class _OperationFailed(Exception):
    """Carries the exception of a failed operation (or of BEGIN/COMMIT) out of a batch."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


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
