"""Opening the database: one SQLite file in the data directory, WAL, durable commits."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import aiosqlite

from softswitch.store.bindings import BindingRepository
from softswitch.store.cdr import CdrRepository
from softswitch.store.errors import StoreError
from softswitch.store.migrations import migrate
from softswitch.store.security_events import SecurityEventRepository
from softswitch.store.settings import SettingsRepository
from softswitch.store.sqlite import SqliteConnection, SqliteReader
from softswitch.store.users import UserRepository
from softswitch.store.voicemail import VoicemailRepository

__all__ = ["DATABASE_FILE", "Database", "open_database"]

DATABASE_FILE = "softswitch.db"

# WAL lets readers (the CLI, the API) run beside the writer; synchronous=FULL makes COMMIT wait
# for the disk, so an acknowledged write survives power loss and kill -9. busy_timeout lets the
# CLI and a running switch wait for each other's short transactions instead of failing.
_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
)


class Database:
    """The repositories over one connection. Use :func:`open_database` to get one."""

    def __init__(self, conn: SqliteConnection, path: Path, clock: Callable[[], float],
                 reader: SqliteReader | None = None) -> None:
        self.path = path
        self._conn = conn
        self._reader = reader
        self.connection = conn  # for modules above the store that keep their own tables
        self.users = UserRepository(conn, clock)
        self.bindings = BindingRepository(conn, reader)
        self.security_events = SecurityEventRepository(conn)
        self.settings = SettingsRepository(conn)
        self.cdr = CdrRepository(conn)
        self.voicemail = VoicemailRepository(conn)

    async def close(self) -> None:
        """Close the connections (committed data is already on disk)."""
        await self._conn.close()
        if self._reader is not None:
            await self._reader.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def open_database(data_dir: Path, *, clock: Callable[[], float] = time.time) -> Database:
    """Open (creating and migrating if needed) ``data_dir/softswitch.db``.

    The directory is created private (0700) and the file 0600: HA1 values are
    password-equivalent within their realm. Raises :class:`StoreError` with a one-line reason.
    """
    path = Path(data_dir) / DATABASE_FILE
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create {path}: {error.strerror or error}") from None
    conn: aiosqlite.Connection | None = None
    reader: aiosqlite.Connection | None = None
    try:
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        for pragma in _PRAGMAS:
            await conn.execute(pragma)
        await migrate(conn)
        # After the migrations, which the reader must not see half done.
        reader = await aiosqlite.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                         isolation_level=None)
        reader.row_factory = sqlite3.Row
        await reader.execute("PRAGMA busy_timeout = 5000")
    except sqlite3.Error as error:
        for opened in (reader, conn):
            if opened is not None:
                await opened.close()
        raise StoreError(f"cannot open {path}: {error}") from None
    except BaseException:
        for opened in (reader, conn):
            if opened is not None:
                await opened.close()
        raise
    return Database(SqliteConnection(conn), path, clock, SqliteReader(reader))
