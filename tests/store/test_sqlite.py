"""Group commit: concurrent writes share one COMMIT, and a failing write undoes only itself."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiosqlite
import pytest

from softswitch.store.migrations import migrate
from softswitch.store.sqlite import SqliteConnection, Transaction


@pytest.fixture
async def raw(tmp_path: Path) -> AsyncIterator[tuple[SqliteConnection, list[str]]]:
    conn = await aiosqlite.connect(tmp_path / "t.db", isolation_level=None)
    await migrate(conn)
    statements: list[str] = []
    await conn.set_trace_callback(statements.append)
    db = SqliteConnection(conn)
    yield db, statements
    await db.close()


def setter(key: str, fail: bool = False) -> Callable[[Transaction], Awaitable[str]]:
    async def op(tx: Transaction) -> str:
        await tx.execute("INSERT INTO settings (key, value) VALUES (?, 'v')", (key,))
        if fail:
            raise LookupError(f"{key} failed after writing")
        return key

    return op


async def keys(db: SqliteConnection) -> list[str]:
    return [row[0] for row in await db.fetch_all("SELECT key FROM settings ORDER BY key")]


async def test_concurrent_writes_share_one_commit(
    raw: tuple[SqliteConnection, list[str]],
) -> None:
    db, statements = raw
    results = await asyncio.gather(*(db.write(setter(f"k{i:02d}")) for i in range(20)))
    assert results == [f"k{i:02d}" for i in range(20)]
    assert await keys(db) == results
    commits = sum(statement == "COMMIT" for statement in statements)
    assert 1 <= commits <= 2  # the first write runs alone, the other 19 ride together


async def test_a_failing_write_rolls_back_only_itself(
    raw: tuple[SqliteConnection, list[str]],
) -> None:
    db, _ = raw
    outcomes = await asyncio.gather(
        db.write(setter("first")),
        db.write(setter("bad", fail=True)),
        db.write(setter("second")),
        return_exceptions=True,
    )
    assert outcomes[0] == "first" and outcomes[2] == "second"
    assert isinstance(outcomes[1], LookupError)
    assert await keys(db) == ["first", "second"]


async def test_a_lone_failing_write_leaves_nothing(raw: tuple[SqliteConnection, list[str]]) -> None:
    db, _ = raw
    with pytest.raises(LookupError):
        await db.write(setter("alone", fail=True))
    assert await keys(db) == []
    assert await db.write(setter("after")) == "after"


async def test_a_write_is_visible_to_another_connection_once_acknowledged(
    raw: tuple[SqliteConnection, list[str]], tmp_path: Path
) -> None:
    db, _ = raw
    await db.write(setter("durable"))
    with sqlite3.connect(tmp_path / "t.db") as other:
        assert other.execute("SELECT key FROM settings").fetchall() == [("durable",)]


INSERT = "INSERT INTO settings (key, value) VALUES (?, 'v')"


async def test_statement_writes_share_one_commit_and_one_worker_trip(
    raw: tuple[SqliteConnection, list[str]],
) -> None:
    db, statements = raw
    await asyncio.gather(*(db.write_statements([(INSERT, [(f"s{i:02d}",)])]) for i in range(20)))
    assert await keys(db) == [f"s{i:02d}" for i in range(20)]
    assert 1 <= sum(statement == "COMMIT" for statement in statements) <= 2


async def test_a_failing_statement_write_undoes_only_itself(
    raw: tuple[SqliteConnection, list[str]],
) -> None:
    db, _ = raw
    await db.write_statements([(INSERT, [("taken",)])])
    outcomes = await asyncio.gather(
        db.write_statements([(INSERT, [("one",)])]),
        db.write_statements([(INSERT, [("two",), ("taken",)])]),  # duplicate key: fails
        db.write_statements([(INSERT, [("three",)])]),
        return_exceptions=True,
    )
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], sqlite3.IntegrityError)
    assert await keys(db) == ["one", "taken", "three"]


async def test_statement_and_ordinary_writes_mix_in_one_batch(
    raw: tuple[SqliteConnection, list[str]],
) -> None:
    db, _ = raw
    results = await asyncio.gather(
        db.write(setter("op")), db.write_statements([(INSERT, [("st",)])]), db.write(setter("op2"))
    )
    assert results == ["op", None, "op2"]
    assert await keys(db) == ["op", "op2", "st"]


async def test_posted_writes_commit_together_in_order_and_close_waits_for_them(
    tmp_path: Path,
) -> None:
    conn = await aiosqlite.connect(tmp_path / "p.db", isolation_level=None)
    await migrate(conn)
    statements: list[str] = []
    await conn.set_trace_callback(statements.append)
    db = SqliteConnection(conn)
    update = "UPDATE settings SET value = ? WHERE key = ?"
    posted = [db.post_statements([(INSERT, [(f"p{i:02d}",)])]) for i in range(10)]
    posted.append(db.post_statements([(update, [("after the insert", "p03")])]))
    await asyncio.wait(posted)
    assert all(future.exception() is None for future in posted)
    assert 1 <= sum(statement == "COMMIT" for statement in statements) <= 2  # group commit
    last = db.post_statements([(INSERT, [("p10",)])])
    duplicate = db.post_statements([(INSERT, [("p05",)])])  # fails alone
    await db.close()  # nothing awaited these posts: close lets them settle first
    assert last.done() and last.exception() is None
    assert isinstance(duplicate.exception(), sqlite3.IntegrityError)
    conn = await aiosqlite.connect(tmp_path / "p.db")
    try:
        rows = await conn.execute_fetchall("SELECT key, value FROM settings ORDER BY key")
    finally:
        await conn.close()
    assert [key for key, _ in rows] == [f"p{i:02d}" for i in range(11)]
    assert dict(rows)["p03"] == "after the insert"


async def test_a_post_whose_waiter_gave_up_does_not_stop_the_others(tmp_path: Path) -> None:
    """A REGISTER's task cancelled while it waits (shutdown) cancels its posted future; the
    batch it is in must still commit and settle everyone else's (alone or retried)."""
    conn = await aiosqlite.connect(tmp_path / "c.db")
    await conn.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT)")
    db = SqliteConnection(conn)
    try:
        given_up = db.post_statements([(INSERT, [("c0",)])])
        kept = db.post_statements([(INSERT, [("c1",)])])
        failing = db.post_statements([(INSERT, [("c1",)])])  # makes the batch retry one by one
        given_up.cancel()
        await asyncio.wait_for(asyncio.wait([kept, failing]), 10)
        assert kept.exception() is None
        assert isinstance(failing.exception(), sqlite3.IntegrityError)
        assert await keys(db) == ["c0", "c1"]  # the given-up write is on disk all the same
    finally:
        await db.close()
