"""What the booking service hands out: small frozen records, money as ``Decimal`` yuan.

The database keeps money in integer fen (cents) so sums are exact; these helpers convert.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

__all__ = [
    "HALVES",
    "KINDS",
    "Booking",
    "Card",
    "Department",
    "ExamType",
    "Expert",
    "Half",
    "Kind",
    "LedgerEntry",
    "Session",
    "cents",
    "yuan",
]

Kind = Literal["general", "expert", "exam"]
Half = Literal["morning", "afternoon"]
KINDS: tuple[str, ...] = ("general", "expert", "exam")
HALVES: tuple[str, ...] = ("morning", "afternoon")
_FEN = Decimal("0.01")
_LIMIT = Decimal(10) ** 15  # far above any fee or balance; keeps quantize() in range


def yuan(fen: int) -> Decimal:
    """Integer fen from the database -> Decimal yuan with two places."""
    return (Decimal(fen) / 100).quantize(_FEN)


def cents(amount: Decimal | int | str | float) -> int:
    """Yuan (Decimal, int or a decimal string) -> integer fen; ValueError for anything that
    is not a finite amount with at most two decimal places."""
    try:
        value = Decimal(str(amount))
        if not value.is_finite() or abs(value) >= _LIMIT:
            raise ValueError(f"not an amount: {amount!r}")
        if value != value.quantize(_FEN, rounding=ROUND_HALF_UP):
            raise ValueError(f"more than two decimal places: {amount!r}")
    except (InvalidOperation, ArithmeticError):
        raise ValueError(f"not an amount: {amount!r}") from None
    return int(value * 100)


@dataclass(frozen=True)
class Card:
    """A visit card as the flows see it (never the PIN or its hash)."""

    number: str
    name: str
    phones: tuple[str, ...]
    insurance: str
    balance: Decimal


@dataclass(frozen=True)
class Department:
    code: str
    digit: str  # the phone menu key; '' for a department not offered by phone
    name_zh: str
    name_en: str
    general_fee: Decimal


@dataclass(frozen=True)
class Expert:
    id: int
    name: str
    department: str  # department code
    title: str


@dataclass(frozen=True)
class ExamType:
    code: str
    digit: str
    name_zh: str
    name_en: str
    fee: Decimal


@dataclass(frozen=True)
class Session:
    """One bookable half-day: a general clinic, an expert's roster row or an exam slot.

    For exam sessions ``department`` is the exam type's code (exams are not booked through
    a department's menu)."""

    id: int
    kind: Kind
    department: str
    date: datetime.date
    half: Half
    expert: Expert | None
    exam: str | None
    capacity: int
    booked: int
    fee: Decimal

    @property
    def remaining(self) -> int:
        return self.capacity - self.booked


@dataclass(frozen=True)
class Booking:
    ticket: str
    card: str
    kind: Kind
    department: str
    date: datetime.date
    half: Half
    expert: str | None  # the expert's name
    exam: str | None
    fee: Decimal
    balance_after: Decimal
    created_at: float


@dataclass(frozen=True)
class LedgerEntry:
    """One movement of a card's money: charges are negative, top-ups positive."""

    card: str
    at: float
    amount: Decimal
    balance_after: Decimal
    reason: str  # booking | topup | adjust | open
    ticket: str | None
    note: str
