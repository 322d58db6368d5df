"""Small key/value settings that belong with the data, such as the digest realm."""

from __future__ import annotations

from softswitch.store.sqlite import SqliteConnection, Transaction

__all__ = ["SettingsRepository"]


class SettingsRepository:
    """String settings; the first writer of a key wins with :meth:`get_or_set`."""

    def __init__(self, db: SqliteConnection) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        """The value, or None when unset."""
        row = await self._db.fetch_one("SELECT value FROM settings WHERE key = ?", (key,))
        return str(row[0]) if row is not None else None

    async def set(self, key: str, value: str) -> None:
        """Create or replace."""
        await self._db.write(
            lambda tx: tx.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
        )

    async def get_or_set(self, key: str, default: str) -> str:
        """The stored value, storing ``default`` first if there is none (atomic)."""

        async def op(tx: Transaction) -> str:
            await tx.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (key, default),
            )
            rows = await tx.fetch_all("SELECT value FROM settings WHERE key = ?", (key,))
            return str(rows[0][0])

        return await self._db.write(op)
