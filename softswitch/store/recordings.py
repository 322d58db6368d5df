"""Call recordings as the CDR links them: ``cdr.recording`` holds the recording files of a
call (paths relative to DATA/recordings, several separated by ``,`` when recording was
switched off and on again during the call)."""

from __future__ import annotations

from softswitch.store.sqlite import SqliteConnection, Transaction

__all__ = ["RecordingRepository", "split_files"]


def split_files(column: str | None) -> list[str]:
    """The files of a ``cdr.recording`` value, in the order they were recorded."""
    return [name for name in (column or "").split(",") if name]


class RecordingRepository:
    """Adds files to a call's record, lists recorded calls, forgets expired recordings."""

    def __init__(self, db: SqliteConnection) -> None:
        self._db = db

    async def add_file(self, call_id: str, file: str) -> bool:
        """Link one more file to the call's record; False when the call has no record."""

        async def op(tx: Transaction) -> int:
            return await tx.execute(
                "UPDATE cdr SET recording = CASE WHEN recording IS NULL OR recording = '' "
                "THEN ? ELSE recording || ',' || ? END WHERE call_id = ?",
                (file, file, call_id))

        return await self._db.write(op) > 0

    async def recorded_calls(self, limit: int = 200) -> list[str]:
        """Call-IDs of recorded calls, newest first."""
        rows = await self._db.fetch_all(
            "SELECT call_id FROM cdr WHERE recording IS NOT NULL AND recording != '' "
            "ORDER BY started_at DESC LIMIT ?", (limit,))
        return [row[0] for row in rows]

    async def expire(self, before: float) -> list[str]:
        """Unlink the recordings of calls started before ``before``; returns their files (the
        caller deletes them once this is committed)."""

        async def op(tx: Transaction) -> list[str]:
            rows = await tx.fetch_all(
                "SELECT recording FROM cdr WHERE recording IS NOT NULL AND recording != '' "
                "AND started_at < ?", (before,))
            await tx.execute(
                "UPDATE cdr SET recording = NULL WHERE recording IS NOT NULL "
                "AND started_at < ?", (before,))
            return [name for row in rows for name in split_files(row[0])]

        return await self._db.write(op)
