"""Opening, migrating and durability of the database file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import aiosqlite
import pytest

from softswitch.store import DATABASE_FILE, SchemaVersionError, StoreError, User, open_database
from softswitch.store.migrations import MIGRATIONS, Migration, migrate

NOW = 1_700_000_000.0


async def test_fresh_directory_gets_a_private_wal_database_at_the_latest_version(
    tmp_path: Path,
) -> None:
    data = tmp_path / "new" / "var"
    db = await open_database(data)
    await db.close()
    path = data / DATABASE_FILE
    assert db.path == path
    assert path.stat().st_mode & 0o777 == 0o600
    assert data.stat().st_mode & 0o077 == 0
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("SELECT version FROM schema_version").fetchall() == [
            (MIGRATIONS[-1].version,)
        ]


async def test_data_survives_reopen_and_migrations_run_once(tmp_path: Path) -> None:
    async with await open_database(tmp_path) as db:
        await db.users.add(User("2001", "r", "a" * 32, "b" * 64, display_name="Ward 7"))
        await db.settings.set("realm", "hospital")
    async with await open_database(tmp_path) as db:
        got = await db.users.get("2001")
        assert got is not None and got.display_name == "Ward 7"
        assert await db.settings.get("realm") == "hospital"
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        assert raw.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1


async def test_settings_first_writer_wins(tmp_path: Path) -> None:
    async with await open_database(tmp_path) as db:
        assert await db.settings.get("realm") is None
        assert await db.settings.get_or_set("realm", "first") == "first"
        assert await db.settings.get_or_set("realm", "second") == "first"
        await db.settings.set("realm", "changed")
        assert await db.settings.get("realm") == "changed"


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    await (await open_database(tmp_path)).close()
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        raw.execute("UPDATE schema_version SET version = 999")
    with pytest.raises(SchemaVersionError, match="999"):
        await open_database(tmp_path)


async def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / DATABASE_FILE).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        await open_database(tmp_path)


async def test_an_unusable_data_directory_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create"):
        await open_database(blocker / "var")


_WRITER = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from pathlib import Path
    from softswitch.store import Binding, open_database

    async def main() -> None:
        db = await open_database(Path(sys.argv[1]))
        for i in range(20):
            await db.bindings.update(f"{3000 + i}", [Binding(
                aor=f"{3000 + i}", contact=f"sip:{3000 + i}@10.0.0.{i}:5060",
                expires_at=float(sys.argv[2]), call_id=f"call-{i}", cseq=i, source_host="10.0.0.1",
                source_port=5060 + i, transport="udp", last_seen=float(sys.argv[3]),
            )])
        print("written", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no close(), no atexit: like kill -9

    asyncio.run(main())
    """
)


async def test_bindings_survive_kill_9_before_close(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WRITER, str(tmp_path), str(NOW + 3600), str(NOW)],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert done.stdout.strip() == "written"
    assert (tmp_path / f"{DATABASE_FILE}-wal").exists()  # the crash left the log unmerged
    async with await open_database(tmp_path) as db:
        active = await db.bindings.active(NOW)
    assert len(active) == 20
    assert {b.aor for b in active} == {f"{3000 + i}" for i in range(20)}
    assert {b.source_port for b in active} == {5060 + i for i in range(20)}
    assert os.path.getsize(tmp_path / DATABASE_FILE) > 0


async def test_a_new_step_applies_once_and_a_failing_step_changes_nothing(tmp_path: Path) -> None:
    await (await open_database(tmp_path)).close()
    latest = MIGRATIONS[-1].version
    good = (*MIGRATIONS, Migration(latest + 1, "notes", ("CREATE TABLE notes (x TEXT)",)))
    bad = (*good, Migration(latest + 2, "broken", ("CREATE TABLE t (y)", "NOT SQL AT ALL")))
    conn = await aiosqlite.connect(tmp_path / DATABASE_FILE, isolation_level=None)
    try:
        assert await migrate(conn, good) == latest + 1
        assert await migrate(conn, good) == latest + 1
        with pytest.raises(sqlite3.OperationalError):
            await migrate(conn, bad)
        async with conn.execute("SELECT version FROM schema_version") as cursor:
            assert await cursor.fetchall() == [(latest + 1,)]
        async with conn.execute("SELECT name FROM sqlite_master WHERE name = 't'") as cursor:
            assert await cursor.fetchall() == []
    finally:
        await conn.close()
