"""The statements of schema version 3: hospital booking (visit cards, departments, experts,
bookable sessions, bookings, the money ledger, PIN failures).

Kept out of migrations.py so that shared file only names the step; like every landed step,
these statements are never edited: a change is a new migration.

::

    booking_cards(number TEXT PK, pin_hash TEXT,   pbkdf2_sha256$iterations$salt$hash
        name TEXT, phones TEXT,                    JSON array of numbers on file
        insurance TEXT, balance_cents INTEGER >= 0, created_at REAL, updated_at REAL)
    booking_pin_failures(id PK, card TEXT, at REAL, source TEXT)      lockout window
    booking_departments(code TEXT PK, digit TEXT UNIQUE NULL, name_zh, name_en,
        general_fee_cents INTEGER)
    booking_experts(id PK, name, department FK, title, active INTEGER)
    booking_exam_types(code TEXT PK, digit TEXT UNIQUE NULL, name_zh, name_en, fee_cents)
    booking_sessions(id PK, kind general|expert|exam, department TEXT,  exam: the exam code
        day TEXT (ISO date), half morning|afternoon, expert_id FK NULL, exam FK NULL,
        capacity INTEGER, booked INTEGER CHECK 0 <= booked <= capacity, fee_cents INTEGER)
        UNIQUE (kind, department, day, half, expert, exam)
    booking_bookings(id PK, ticket TEXT UNIQUE, card FK, session_id FK, fee_cents,
        balance_after_cents, channel TEXT, created_at REAL, UNIQUE(card, session_id))
    booking_ledger(id PK, card FK, at REAL, amount_cents (negative: a charge),
        balance_after_cents, reason booking|topup|adjust|open, booking_id FK NULL, note TEXT)
    booking_ticket_counters(prefix TEXT PK, last INTEGER)              ticket sequences
"""

from __future__ import annotations

__all__ = ["BOOKING_STATEMENTS"]

BOOKING_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE booking_cards (
        number TEXT PRIMARY KEY,
        pin_hash TEXT NOT NULL,
        name TEXT NOT NULL,
        phones TEXT NOT NULL DEFAULT '[]',
        insurance TEXT NOT NULL DEFAULT 'self-pay',
        balance_cents INTEGER NOT NULL CHECK (balance_cents >= 0),
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )""",
    """CREATE TABLE booking_pin_failures (
        id INTEGER PRIMARY KEY,
        card TEXT NOT NULL,
        at REAL NOT NULL,
        source TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX booking_pin_failures_card ON booking_pin_failures(card, at)",
    """CREATE TABLE booking_departments (
        code TEXT PRIMARY KEY,
        digit TEXT UNIQUE,
        name_zh TEXT NOT NULL,
        name_en TEXT NOT NULL,
        general_fee_cents INTEGER NOT NULL CHECK (general_fee_cents >= 0)
    )""",
    """CREATE TABLE booking_experts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        department TEXT NOT NULL REFERENCES booking_departments(code),
        title TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1
    )""",
    """CREATE TABLE booking_exam_types (
        code TEXT PRIMARY KEY,
        digit TEXT UNIQUE,
        name_zh TEXT NOT NULL,
        name_en TEXT NOT NULL,
        fee_cents INTEGER NOT NULL CHECK (fee_cents >= 0)
    )""",
    """CREATE TABLE booking_sessions (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('general', 'expert', 'exam')),
        department TEXT NOT NULL,
        day TEXT NOT NULL,
        half TEXT NOT NULL CHECK (half IN ('morning', 'afternoon')),
        expert_id INTEGER REFERENCES booking_experts(id),
        exam TEXT REFERENCES booking_exam_types(code),
        capacity INTEGER NOT NULL CHECK (capacity >= 0),
        booked INTEGER NOT NULL DEFAULT 0 CHECK (booked >= 0 AND booked <= capacity),
        fee_cents INTEGER NOT NULL CHECK (fee_cents >= 0)
    )""",
    """CREATE UNIQUE INDEX booking_sessions_key ON booking_sessions(
        kind, department, day, half, IFNULL(expert_id, 0), IFNULL(exam, ''))""",
    "CREATE INDEX booking_sessions_day ON booking_sessions(day, kind)",
    """CREATE TABLE booking_bookings (
        id INTEGER PRIMARY KEY,
        ticket TEXT NOT NULL UNIQUE,
        card TEXT NOT NULL REFERENCES booking_cards(number),
        session_id INTEGER NOT NULL REFERENCES booking_sessions(id),
        fee_cents INTEGER NOT NULL,
        balance_after_cents INTEGER NOT NULL,
        channel TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        UNIQUE (card, session_id)
    )""",
    """CREATE TABLE booking_ledger (
        id INTEGER PRIMARY KEY,
        card TEXT NOT NULL REFERENCES booking_cards(number),
        at REAL NOT NULL,
        amount_cents INTEGER NOT NULL,
        balance_after_cents INTEGER NOT NULL CHECK (balance_after_cents >= 0),
        reason TEXT NOT NULL,
        booking_id INTEGER REFERENCES booking_bookings(id),
        note TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX booking_ledger_card ON booking_ledger(card, at)",
    """CREATE TABLE booking_ticket_counters (
        prefix TEXT PRIMARY KEY,
        last INTEGER NOT NULL
    )""",
)
