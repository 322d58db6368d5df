"""Versioned schema migrations. Append a step, never edit a released one.

Schema (version 1)::

    schema_version(version INTEGER)            one row: the last migration applied
    settings(key TEXT PK, value TEXT)          e.g. 'realm' (fixed on first use)
    users(
        extension TEXT PK,                     2..15 digits, also the digest username
        realm TEXT,                            the realm the HA1 values were computed for
        ha1_md5 TEXT, ha1_sha256 TEXT,         H(extension:realm:password); never the password
        display_name TEXT, department TEXT,
        class_of_service TEXT,                 internal | local | national | international
        voicemail_pin_hash TEXT NULL,          pbkdf2_sha256$iterations$salt$hash
        enabled INTEGER,                       0/1
        created_at REAL, updated_at REAL)      unix seconds
    user_rights(extension FK->users ON DELETE CASCADE, name TEXT, PK(extension, name))
                                               feature rights as a set ('paging', ...)
    bindings(
        id INTEGER PK,
        aor TEXT, binding_key TEXT,            UNIQUE(aor, binding_key); see records.binding_key
        contact TEXT, q REAL NULL, expires_at REAL,
        call_id TEXT, cseq INTEGER,            RFC 3261 section 10.3 step 7 ordering
        source_host TEXT, source_port INTEGER, where the REGISTER came from (NAT, RFC 3581)
        transport TEXT, connection_id TEXT NULL,
        user_agent TEXT, path TEXT,            path: JSON array of Path URIs (RFC 3327)
        instance_id TEXT NULL, reg_id INTEGER NULL,   RFC 5626
        last_seen REAL, reachable INTEGER)     qualify results
        INDEX bindings_expires(expires_at)
    security_events(id INTEGER PK, at REAL, kind TEXT, source TEXT, user TEXT NULL, detail TEXT)
        INDEX security_events_at(at)

Version 2 adds the call detail records (one row per call; disposition NULL while it is up)::

    cdr(id INTEGER PK, call_id TEXT UNIQUE, caller TEXT, callee TEXT, dialled TEXT, route TEXT,
        started_at REAL, answered_at REAL NULL, ended_at REAL NULL,
        duration REAL NULL, billable INTEGER NULL,  seconds; billable from answer to end
        disposition TEXT NULL, cause TEXT, hangup_side TEXT NULL, recording TEXT NULL)
        INDEX cdr_started(started_at), cdr_caller(caller, started_at),
        cdr_callee(callee, started_at), cdr_open(disposition) WHERE disposition IS NULL

Version 3 adds hospital booking (visit cards, departments, experts, sessions, bookings, the
money ledger): the tables are drawn in ``store/booking_schema.py``.

Version 4 adds what outbound statistics and per-leg records need::

    cdr.cost_class TEXT NULL                   the number class a call was routed as: internal,
                                               emergency, local, long_distance, international,
                                               premium (NULL: refused or older rows)
    cdr_legs(id INTEGER PK, leg_id TEXT UNIQUE, call_id TEXT (the call's cdr.call_id),
        side TEXT ('a' the caller's leg, 'b' one per contact tried), direction TEXT
        (inbound | outbound), sip_call_id TEXT, peer TEXT (contact URI), address TEXT
        (transport host:port), started_at REAL, answered_at REAL NULL, ended_at REAL,
        disposition TEXT, cause TEXT)
        INDEX cdr_legs_call(call_id)

Version 5 adds voicemail (files under DATA/voicemail/<mailbox>/, ``file`` relative to
DATA/voicemail)::

    voicemail_messages(id INTEGER PK, mailbox TEXT, caller TEXT, received_at REAL,
        duration REAL, file TEXT, status TEXT 'new'|'old', call_id TEXT)
        INDEX voicemail_mailbox(mailbox, status)
    voicemail_boxes(mailbox TEXT PK, enabled INTEGER, greeting TEXT NULL)

Bindings are not foreign-keyed to users: a binding may outlive a user by one expiry period
and the registrar, not the schema, decides that.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from softswitch.store.booking_schema import BOOKING_STATEMENTS
from softswitch.store.errors import SchemaVersionError

__all__ = ["MIGRATIONS", "Migration", "migrate"]


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: its statements and the version they bring the schema to."""

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "directory, bindings, security log",
        (
            "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            """CREATE TABLE users (
                extension TEXT PRIMARY KEY,
                realm TEXT NOT NULL,
                ha1_md5 TEXT NOT NULL,
                ha1_sha256 TEXT NOT NULL,
                display_name TEXT NOT NULL DEFAULT '',
                department TEXT NOT NULL DEFAULT '',
                class_of_service TEXT NOT NULL DEFAULT 'internal',
                voicemail_pin_hash TEXT,
                enabled INTEGER NOT NULL DEFAULT 1,
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL
            )""",
            """CREATE TABLE user_rights (
                extension TEXT NOT NULL REFERENCES users(extension) ON DELETE CASCADE,
                name TEXT NOT NULL,
                PRIMARY KEY (extension, name)
            ) WITHOUT ROWID""",
            """CREATE TABLE bindings (
                id INTEGER PRIMARY KEY,
                aor TEXT NOT NULL,
                binding_key TEXT NOT NULL,
                contact TEXT NOT NULL,
                q REAL,
                expires_at REAL NOT NULL,
                call_id TEXT NOT NULL,
                cseq INTEGER NOT NULL,
                source_host TEXT NOT NULL,
                source_port INTEGER NOT NULL,
                transport TEXT NOT NULL,
                connection_id TEXT,
                user_agent TEXT NOT NULL DEFAULT '',
                path TEXT NOT NULL DEFAULT '[]',
                instance_id TEXT,
                reg_id INTEGER,
                last_seen REAL NOT NULL,
                reachable INTEGER NOT NULL DEFAULT 1,
                UNIQUE (aor, binding_key)
            )""",
            "CREATE INDEX bindings_expires ON bindings(expires_at)",
            """CREATE TABLE security_events (
                id INTEGER PRIMARY KEY,
                at REAL NOT NULL,
                kind TEXT NOT NULL,
                source TEXT NOT NULL,
                user TEXT,
                detail TEXT NOT NULL DEFAULT ''
            )""",
            "CREATE INDEX security_events_at ON security_events(at)",
        ),
    ),
    Migration(
        2,
        "call detail records",
        (
            """CREATE TABLE cdr (
                id INTEGER PRIMARY KEY,
                call_id TEXT NOT NULL UNIQUE,
                caller TEXT NOT NULL,
                callee TEXT NOT NULL,
                dialled TEXT NOT NULL,
                route TEXT NOT NULL,
                started_at REAL NOT NULL,
                answered_at REAL,
                ended_at REAL,
                duration REAL,
                billable INTEGER,
                disposition TEXT,
                cause TEXT NOT NULL DEFAULT '',
                hangup_side TEXT,
                recording TEXT
            )""",
            "CREATE INDEX cdr_started ON cdr(started_at)",
            "CREATE INDEX cdr_caller ON cdr(caller, started_at)",
            "CREATE INDEX cdr_callee ON cdr(callee, started_at)",
            "CREATE INDEX cdr_open ON cdr(disposition) WHERE disposition IS NULL",
        ),
    ),
    Migration(3, "hospital booking", BOOKING_STATEMENTS),
    Migration(
        4,
        "cost class of calls, one record per call leg",
        (
            "ALTER TABLE cdr ADD COLUMN cost_class TEXT",
            """CREATE TABLE cdr_legs (
                id INTEGER PRIMARY KEY,
                leg_id TEXT NOT NULL UNIQUE,
                call_id TEXT NOT NULL,
                side TEXT NOT NULL,
                direction TEXT NOT NULL,
                sip_call_id TEXT NOT NULL,
                peer TEXT NOT NULL,
                address TEXT NOT NULL,
                started_at REAL NOT NULL,
                answered_at REAL,
                ended_at REAL NOT NULL,
                disposition TEXT NOT NULL,
                cause TEXT NOT NULL DEFAULT ''
            )""",
            "CREATE INDEX cdr_legs_call ON cdr_legs(call_id)",
        ),
    ),
    Migration(
        5,
        "voicemail",
        (
            """CREATE TABLE voicemail_messages (
                id INTEGER PRIMARY KEY,
                mailbox TEXT NOT NULL,
                caller TEXT NOT NULL,
                received_at REAL NOT NULL,
                duration REAL NOT NULL,
                file TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'new',
                call_id TEXT NOT NULL DEFAULT ''
            )""",
            "CREATE INDEX voicemail_mailbox ON voicemail_messages(mailbox, status)",
            """CREATE TABLE voicemail_boxes (
                mailbox TEXT PRIMARY KEY,
                enabled INTEGER NOT NULL DEFAULT 1,
                greeting TEXT
            )""",
        ),
    ),
    Migration(
        6,
        "personal speed dials",
        (
            """CREATE TABLE speed_dials (
                owner TEXT NOT NULL,
                code TEXT NOT NULL,
                number TEXT NOT NULL,
                PRIMARY KEY (owner, code)
            )""",
        ),
    ),
    Migration(
        7,
        "hot-desk logins",
        (
            """CREATE TABLE hotdesk_logins (
                phone TEXT PRIMARY KEY,
                extension TEXT NOT NULL UNIQUE,
                since REAL NOT NULL
            )""",
        ),
    ),
    Migration(
        8,
        "line settings: call waiting, follow-me",
        (
            """CREATE TABLE line_settings (
                extension TEXT PRIMARY KEY,
                call_waiting INTEGER NOT NULL DEFAULT 1,
                follow_me TEXT NOT NULL DEFAULT '',
                ring_seconds INTEGER NOT NULL DEFAULT 20
            )""",
        ),
    ),
)


async def _current_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ) as cursor:
        if await cursor.fetchone() is None:
            return 0
    async with conn.execute("SELECT MAX(version) FROM schema_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


async def migrate(
    conn: aiosqlite.Connection, migrations: tuple[Migration, ...] = MIGRATIONS
) -> int:
    """Bring the schema up to the last step; return the version.

    All pending steps run in one transaction: a crash leaves the old schema, never half a
    step. ``BEGIN IMMEDIATE`` takes the write lock first, so two processes starting on a fresh
    directory (the switch and the CLI) cannot both apply the same step.
    """
    latest = migrations[-1].version if migrations else 0
    version = await _current_version(conn)
    if version == latest:
        return version  # the common case: no write lock, so opening never waits for a writer
    await conn.execute("BEGIN IMMEDIATE")
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        version = await _current_version(conn)  # again: another process may have migrated
        if version > latest:
            raise SchemaVersionError(
                f"database schema version {version} is newer than this softswitch ({latest})"
            )
        for step in migrations:
            if step.version <= version:
                continue
            for statement in step.statements:
                await conn.execute(statement)
            await conn.execute("DELETE FROM schema_version")
            await conn.execute("INSERT INTO schema_version (version) VALUES (?)", (step.version,))
            version = step.version
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")
    return version
