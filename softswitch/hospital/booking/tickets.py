"""Ticket numbers: short, readable at a kiosk and speakable by phone, unique forever.

``E2-1127-004`` is the 4th expert-clinic (E) booking for department menu digit 2 on 27
November. G is the general clinic, X an exam (its digit is the exam's menu digit). The
sequence is kept per prefix and never restarts (next year's 27 November continues at 005...),
so a ticket is unique without printing the year.
"""

from __future__ import annotations

import datetime
import re

__all__ = ["NEXT_SEQUENCE", "is_ticket", "ticket", "ticket_prefix"]

_LETTER = {"general": "G", "expert": "E", "exam": "X"}
_TICKET = re.compile(r"[GEX][0-9]-[0-9]{4}-[0-9]{3,12}")

# Run inside the booking transaction: the counter row and the booking commit together.
NEXT_SEQUENCE = (
    "INSERT INTO booking_ticket_counters (prefix, last) VALUES (?, 1) "
    "ON CONFLICT (prefix) DO UPDATE SET last = last + 1 RETURNING last"
)


def ticket_prefix(kind: str, menu_digit: str, day: datetime.date) -> str:
    return f"{_LETTER[kind]}{menu_digit or '0'}-{day:%m%d}"


def ticket(prefix: str, sequence: int) -> str:
    return f"{prefix}-{sequence:03d}"


def is_ticket(value: object) -> bool:
    """Could ``value`` be a ticket number (as typed at a kiosk or sent by the HIS)?"""
    return isinstance(value, str) and _TICKET.fullmatch(value) is not None
