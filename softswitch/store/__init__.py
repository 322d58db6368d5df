"""Storage: every durable piece of state, behind repositories (SQLite today, PostgreSQL later).

Entry point: ``db = await open_database(data_dir)``, then ``db.users``, ``db.bindings``,
``db.security_events``, ``db.settings``, ``db.cdr``, ``db.voicemail``, and ``await db.close()``.
"""

from softswitch.store.bindings import BindingRepository
from softswitch.store.cdr import CallRecord, CdrRepository, Disposition, HangupSide, LegRecord
from softswitch.store.cdr_stats import CallStats, GroupBy
from softswitch.store.database import DATABASE_FILE, Database, open_database
from softswitch.store.errors import (
    DuplicateUserError,
    SchemaVersionError,
    StoreError,
    UnknownUserError,
)
from softswitch.store.records import (
    Binding,
    SecurityEvent,
    SecurityEventKind,
    User,
    binding_key,
)
from softswitch.store.security_events import SecurityEventRepository
from softswitch.store.settings import SettingsRepository
from softswitch.store.users import UserRepository
from softswitch.store.voicemail import (
    MailboxSettings,
    MessageStatus,
    VoicemailMessage,
    VoicemailRepository,
)

__all__ = [
    "DATABASE_FILE",
    "Binding",
    "BindingRepository",
    "CallRecord",
    "CallStats",
    "CdrRepository",
    "Database",
    "Disposition",
    "DuplicateUserError",
    "GroupBy",
    "HangupSide",
    "LegRecord",
    "MailboxSettings",
    "MessageStatus",
    "SchemaVersionError",
    "SecurityEvent",
    "SecurityEventKind",
    "SecurityEventRepository",
    "SettingsRepository",
    "StoreError",
    "UnknownUserError",
    "User",
    "UserRepository",
    "VoicemailMessage",
    "VoicemailRepository",
    "binding_key",
    "open_database",
]
