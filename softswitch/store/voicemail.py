"""Voicemail: the messages of each mailbox and the per-mailbox settings.

A message is a row here plus a WAV file under ``DATA/voicemail/<mailbox>/``; the row holds
the file's name relative to that directory, so a data directory can be moved. A mailbox row
exists only once its owner changed a setting: no row means voicemail on, default greeting.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from softswitch.store.sqlite import SqliteConnection, Transaction

__all__ = ["MailboxSettings", "MessageStatus", "VoicemailMessage", "VoicemailRepository"]


class MessageStatus(StrEnum):
    """A message is new until its owner listened to it (or saved it), then old."""

    NEW = "new"
    OLD = "old"


@dataclass(frozen=True, slots=True)
class VoicemailMessage:
    """One message; ``received_at`` in unix seconds, ``duration`` in seconds."""

    id: int
    mailbox: str
    caller: str
    received_at: float
    duration: float
    file: str  # relative to DATA/voicemail
    status: MessageStatus
    call_id: str = ""


@dataclass(frozen=True, slots=True)
class MailboxSettings:
    """A mailbox's owner settings: voicemail on/off and a recorded greeting (relative path)."""

    mailbox: str
    enabled: bool = True
    greeting: str | None = None


_COLUMNS = "id, mailbox, caller, received_at, duration, file, status, call_id"


def _to_message(row: sqlite3.Row) -> VoicemailMessage:
    return VoicemailMessage(
        id=row["id"], mailbox=row["mailbox"], caller=row["caller"],
        received_at=row["received_at"], duration=row["duration"], file=row["file"],
        status=MessageStatus(row["status"]), call_id=row["call_id"],
    )


class VoicemailRepository:
    """Messages and mailbox settings; every write is committed before it returns."""

    def __init__(self, db: SqliteConnection) -> None:
        self._db = db

    async def add(self, mailbox: str, caller: str, received_at: float, duration: float,
                  file: str, call_id: str = "") -> VoicemailMessage:
        """Store a new message whose file is already complete on disk."""
        sql = ("INSERT INTO voicemail_messages (mailbox, caller, received_at, duration, file, "
               "status, call_id) VALUES (?, ?, ?, ?, ?, 'new', ?)")

        async def op(tx: Transaction) -> int:
            return await tx.insert(sql, (mailbox, caller, received_at, duration, file, call_id))

        message_id = await self._db.write(op)
        return VoicemailMessage(message_id, mailbox, caller, received_at, duration, file,
                                MessageStatus.NEW, call_id)

    async def get(self, message_id: int) -> VoicemailMessage | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM voicemail_messages WHERE id = ?", (message_id,))
        return _to_message(row) if row is not None else None

    async def messages(self, mailbox: str) -> list[VoicemailMessage]:
        """New messages first, then old ones; oldest first within each (callers expect that)."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM voicemail_messages WHERE mailbox = ? "
            "ORDER BY status = 'old', received_at, id", (mailbox,))
        return [_to_message(row) for row in rows]

    async def counts(self, mailbox: str) -> tuple[int, int]:
        """(new, old) message counts: what MWI and the mailbox greeting announce."""
        rows = await self._db.fetch_all(
            "SELECT status, COUNT(*) FROM voicemail_messages WHERE mailbox = ? GROUP BY status",
            (mailbox,))
        found = {row[0]: int(row[1]) for row in rows}
        return found.get("new", 0), found.get("old", 0)

    async def mark(self, message_id: int, status: MessageStatus) -> bool:
        """Set a message new or old; False when it does not exist."""
        changed = await self._db.write(lambda tx: tx.execute(
            "UPDATE voicemail_messages SET status = ? WHERE id = ?", (status.value, message_id)))
        return changed > 0

    async def delete(self, message_id: int) -> VoicemailMessage | None:
        """Remove the row and return it (the caller removes the file); None when unknown."""

        async def op(tx: Transaction) -> VoicemailMessage | None:
            rows = await tx.fetch_all(
                f"SELECT {_COLUMNS} FROM voicemail_messages WHERE id = ?", (message_id,))
            if not rows:
                return None
            await tx.execute("DELETE FROM voicemail_messages WHERE id = ?", (message_id,))
            return _to_message(rows[0])

        return await self._db.write(op)

    async def settings(self, mailbox: str) -> MailboxSettings:
        row = await self._db.fetch_one(
            "SELECT enabled, greeting FROM voicemail_boxes WHERE mailbox = ?", (mailbox,))
        if row is None:
            return MailboxSettings(mailbox)
        return MailboxSettings(mailbox, bool(row["enabled"]), row["greeting"])

    async def set_enabled(self, mailbox: str, enabled: bool) -> None:
        await self._db.write(lambda tx: tx.execute(
            "INSERT INTO voicemail_boxes (mailbox, enabled) VALUES (?, ?) "
            "ON CONFLICT (mailbox) DO UPDATE SET enabled = excluded.enabled",
            (mailbox, int(enabled))))

    async def set_greeting(self, mailbox: str, greeting: str | None) -> None:
        await self._db.write(lambda tx: tx.execute(
            "INSERT INTO voicemail_boxes (mailbox, greeting) VALUES (?, ?) "
            "ON CONFLICT (mailbox) DO UPDATE SET greeting = excluded.greeting",
            (mailbox, greeting)))
