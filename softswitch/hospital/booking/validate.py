"""Input rules for staff and HIS data (cards, departments, experts, sessions).

Each function returns the cleaned value or raises :class:`InvalidInput` naming the field, so
the HTTP API, the CLI and the demo loader refuse bad data with the same words.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from decimal import Decimal

from softswitch.hospital.booking.errors import InvalidInput
from softswitch.hospital.booking.records import HALVES, KINDS, cents

__all__ = [
    "MAX_AMOUNT_FEN",
    "amount_fen",
    "capacity",
    "card_number",
    "code",
    "date",
    "digit",
    "half",
    "is_card",
    "is_code",
    "kind",
    "label",
    "phones",
    "pin",
    "row_id",
    "text",
]

_CARD = re.compile(r"[0-9]{4,20}")
_PIN = re.compile(r"[0-9]{4,12}")
_PHONE = re.compile(r"\+?[0-9]{3,20}")
_CODE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_DIGIT = re.compile(r"[1-9]?")
MAX_AMOUNT_FEN = 100_000_000  # one million yuan: anything above is a typo, not a fee
_MAX_PHONES = 5
_MAX_CAPACITY = 1000


def card_number(value: str, field: str = "card") -> str:
    """Visit card numbers are 4 to 20 digits (what a patient types on a keypad)."""
    if not isinstance(value, str) or not _CARD.fullmatch(value):
        raise InvalidInput(field, "must be 4 to 20 digits")
    return value


def pin(value: str, field: str = "pin") -> str:
    if not isinstance(value, str) or not _PIN.fullmatch(value):
        raise InvalidInput(field, "must be 4 to 12 digits")
    return value


def label(value: str, field: str, *, max_length: int = 64) -> str:
    """A name shown or spoken to people: not empty, no control characters."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text")
    text = value.strip()
    if not text:
        raise InvalidInput(field, "must not be empty")
    if len(text) > max_length:
        raise InvalidInput(field, f"must be at most {max_length} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise InvalidInput(field, "must not contain control characters")
    return text


def phones(values: Iterable[str], field: str = "phones") -> tuple[str, ...]:
    """Up to five numbers on file (patient, family, employer...), digits with an optional +."""
    cleaned = tuple(str(v).strip().replace(" ", "").replace("-", "") for v in values)
    if len(cleaned) > _MAX_PHONES:
        raise InvalidInput(field, f"at most {_MAX_PHONES} numbers")
    for number in cleaned:
        if not _PHONE.fullmatch(number):
            raise InvalidInput(field, f"not a phone number: {number!r}")
    return tuple(dict.fromkeys(cleaned))


def row_id(value: int) -> bool:
    """Is ``value`` an id SQLite can hold? (A bigger one from a URL would overflow.)"""
    return not isinstance(value, bool) and isinstance(value, int) and 0 < value < 2**63


def is_card(value: object) -> bool:
    """Could ``value`` be a card number? Lookups answer "no such card" for anything else
    (and never send text SQLite cannot store, such as lone surrogates, to the database)."""
    return isinstance(value, str) and _CARD.fullmatch(value) is not None


def is_code(value: object) -> bool:
    """Could ``value`` be a department or exam code? (See :func:`is_card`.)"""
    return isinstance(value, str) and _CODE.fullmatch(value) is not None


def text(value: object, max_length: int) -> str:
    """Free text kept for people to read later (a note, a channel, a source): cut to length,
    and characters that cannot be stored (control characters, lone surrogates) replaced."""
    return "".join("?" if ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF else ch
                   for ch in str(value)[:max_length])


def code(value: str, field: str = "code") -> str:
    """Department and exam codes: lower-case letters, digits, '-' and '_', up to 32."""
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise InvalidInput(field, "must be 1 to 32 lower-case letters, digits, '-' or '_', "
                                  "starting with a letter")
    return value


def digit(value: str, field: str = "digit") -> str:
    """A phone menu key 1-9, or '' for an entry not offered in the phone menu."""
    if not isinstance(value, str) or not _DIGIT.fullmatch(value):
        raise InvalidInput(field, "must be one digit 1-9 (or empty)")
    return value


def amount_fen(value: Decimal | int | str, field: str, *, signed: bool = False) -> int:
    """Yuan with at most two decimals -> fen; not negative unless ``signed``."""
    try:
        fen = cents(value)
    except ValueError:
        raise InvalidInput(field, "must be an amount in yuan with at most two decimals") from None
    if not signed and fen < 0:
        raise InvalidInput(field, "must not be negative")
    if abs(fen) > MAX_AMOUNT_FEN:
        raise InvalidInput(field, "is too large")
    return fen


def capacity(value: int, field: str = "capacity") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_CAPACITY:
        raise InvalidInput(field, f"must be a whole number from 0 to {_MAX_CAPACITY}")
    return value


def kind(value: str, field: str = "kind") -> str:
    if value not in KINDS:
        raise InvalidInput(field, f"must be one of {', '.join(KINDS)}")
    return value


def half(value: str, field: str = "session") -> str:
    if value not in HALVES:
        raise InvalidInput(field, f"must be one of {', '.join(HALVES)}")
    return value


def date(value: datetime.date | str, field: str = "date") -> datetime.date:
    """A date object or an ISO date string (YYYY-MM-DD)."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(field, "must be a date YYYY-MM-DD") from None
