"""The extension directory: users, their HA1 credentials and their feature rights."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from typing import TypeVar

from softswitch.store.errors import DuplicateUserError, UnknownUserError
from softswitch.store.records import User
from softswitch.store.sqlite import Params, SqliteConnection, Transaction

__all__ = ["UserRepository"]

T = TypeVar("T")

_COLUMNS = (
    "extension, realm, ha1_md5, ha1_sha256, display_name, department, class_of_service, "
    "voicemail_pin_hash, enabled, created_at, updated_at"
)
_INSERT = f"INSERT INTO users ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_RIGHT = "INSERT OR IGNORE INTO user_rights (extension, name) VALUES (?, ?)"
_RIGHTS_OF = "(SELECT group_concat(name, ',') FROM user_rights r WHERE r.extension = u.extension)"
_SELECT = f"SELECT {_COLUMNS}, {_RIGHTS_OF} AS rights FROM users u"


def _to_user(row: sqlite3.Row) -> User:
    rights = row["rights"]
    return User(
        extension=row["extension"],
        realm=row["realm"],
        ha1_md5=row["ha1_md5"],
        ha1_sha256=row["ha1_sha256"],
        display_name=row["display_name"],
        department=row["department"],
        class_of_service=row["class_of_service"],
        rights=frozenset(rights.split(",")) if rights else frozenset(),
        voicemail_pin_hash=row["voicemail_pin_hash"],
        enabled=bool(row["enabled"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class UserRepository:
    """CRUD for extensions. Creation and update times are stamped here from ``clock``."""

    def __init__(self, db: SqliteConnection, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock
        self._generation = 0

    async def version(self) -> tuple[int, int]:
        """Changes to compare, cheaply, with an earlier answer: this repository's own writes
        and SQLite's ``data_version`` (commits by other connections, such as the CLI)."""
        return self._generation, await self._db.data_version()

    async def _write(self, operation: Callable[[Transaction], Awaitable[T]]) -> T:
        try:
            return await self._db.write(operation)
        finally:
            self._generation += 1

    async def add(self, user: User) -> User:
        """Insert one user (with its rights); :class:`DuplicateUserError` if it exists."""
        return (await self.add_many([user]))[0]

    async def add_many(self, users: Sequence[User]) -> list[User]:
        """Insert all users in one transaction, or none of them (CSV import).

        Raises :class:`DuplicateUserError` naming every extension that already exists.
        """
        now = self._clock()
        stamped = [replace(user, created_at=now, updated_at=now) for user in users]
        rows = [
            (u.extension, u.realm, u.ha1_md5, u.ha1_sha256, u.display_name, u.department,
             u.class_of_service, u.voicemail_pin_hash, int(u.enabled), now, now)
            for u in stamped
        ]
        rights = [(u.extension, right) for u in stamped for right in sorted(u.rights)]

        async def op(tx: Transaction) -> None:
            clash = await _taken(tx.fetch_all, [u.extension for u in stamped])
            if clash or len({u.extension for u in stamped}) != len(stamped):
                raise DuplicateUserError(clash or _repeated(u.extension for u in stamped))
            await tx.execute_many(_INSERT, rows)
            await tx.execute_many(_INSERT_RIGHT, rights)

        await self._write(op)
        return stamped

    async def existing(self, extensions: Iterable[str]) -> set[str]:
        """Which of ``extensions`` are already taken (to report CSV rows by line)."""
        return await _taken(self._db.fetch_all, list(extensions))

    async def get(self, extension: str) -> User | None:
        """One user, or None (the registrar then uses a dummy HA1: no enumeration)."""
        row = await self._db.fetch_one(f"{_SELECT} WHERE extension = ?", (extension,))
        return _to_user(row) if row is not None else None

    async def list(self) -> list[User]:
        """Every user, ordered by extension."""
        return [_to_user(row) for row in await self._db.fetch_all(f"{_SELECT} ORDER BY extension")]

    async def by_extension(self) -> dict[str, User]:
        """Every user by extension, in one query (the switch's user cache holds them all)."""
        return {user.extension: user for user in await self.list()}

    async def count(self) -> int:
        """Number of users."""
        row = await self._db.fetch_one("SELECT COUNT(*) FROM users")
        return int(row[0]) if row is not None else 0

    async def remove(self, extension: str) -> bool:
        """Delete a user and its rights; False if there was none."""
        deleted = await self._write(
            lambda tx: tx.execute("DELETE FROM users WHERE extension = ?", (extension,))
        )
        return deleted > 0

    async def set_credentials(
        self, extension: str, *, realm: str, ha1_md5: str, ha1_sha256: str
    ) -> None:
        """New password (as HA1) and the realm it was computed for."""
        await self._update(
            extension, "realm = ?, ha1_md5 = ?, ha1_sha256 = ?", (realm, ha1_md5, ha1_sha256)
        )

    async def set_profile(
        self,
        extension: str,
        *,
        display_name: str | None = None,
        department: str | None = None,
        class_of_service: str | None = None,
    ) -> None:
        """Change the descriptive fields that are given; leave the others."""
        changes = {
            "display_name": display_name,
            "department": department,
            "class_of_service": class_of_service,
        }
        given = {column: value for column, value in changes.items() if value is not None}
        if given:
            assignments = ", ".join(f"{column} = ?" for column in given)
            await self._update(extension, assignments, tuple(given.values()))

    async def set_enabled(self, extension: str, enabled: bool) -> None:
        """A disabled extension keeps its data but cannot register or call."""
        await self._update(extension, "enabled = ?", (int(enabled),))

    async def set_voicemail_pin_hash(self, extension: str, pin_hash: str | None) -> None:
        """Store an already hashed PIN (see ``directory.hash_pin``), or clear it."""
        await self._update(extension, "voicemail_pin_hash = ?", (pin_hash,))

    async def grant(self, extension: str, right: str) -> bool:
        """Add a feature right; False when the user already had it."""

        async def op(tx: Transaction) -> bool:
            await self._touch(tx, extension)
            return await tx.execute(_INSERT_RIGHT, (extension, right)) > 0

        return await self._write(op)

    async def revoke(self, extension: str, right: str) -> bool:
        """Remove a feature right; False when the user did not have it."""

        async def op(tx: Transaction) -> bool:
            await self._touch(tx, extension)
            sql = "DELETE FROM user_rights WHERE extension = ? AND name = ?"
            return await tx.execute(sql, (extension, right)) > 0

        return await self._write(op)

    async def _update(self, extension: str, assignments: str, params: tuple[object, ...]) -> None:
        changed = await self._write(
            lambda tx: tx.execute(
                f"UPDATE users SET {assignments}, updated_at = ? WHERE extension = ?",
                (*params, self._clock(), extension),
            )
        )
        if not changed:
            raise UnknownUserError(extension)

    async def _touch(self, tx: Transaction, extension: str) -> None:
        changed = await tx.execute(
            "UPDATE users SET updated_at = ? WHERE extension = ?", (self._clock(), extension)
        )
        if not changed:
            raise UnknownUserError(extension)


async def _taken(
    fetch_all: Callable[[str, Params], Awaitable[list[sqlite3.Row]]], extensions: list[str]
) -> set[str]:
    """Existing extensions among ``extensions``, in chunks below SQLite's variable limit."""
    found: set[str] = set()
    for start in range(0, len(extensions), 500):
        chunk = extensions[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = await fetch_all(f"SELECT extension FROM users WHERE extension IN ({marks})", chunk)
        found.update(row[0] for row in rows)
    return found


def _repeated(extensions: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for extension in extensions:
        (repeated if extension in seen else seen).add(extension)
    return repeated
