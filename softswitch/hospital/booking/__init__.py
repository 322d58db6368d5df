"""Appointment booking: visit cards, departments, experts, sessions and bookings.

The contract shared by the phone flow, the web pages and the HTTP API (docs/architecture.md, "Appointment booking"):
build one :class:`BookingService` over the switch's database and book everything through
``book(card, session_id, channel=...)``; errors are :class:`BookingError` subclasses whose
``message`` is safe to show a patient.
"""

from softswitch.hospital.booking.errors import (
    AlreadyBooked,
    BookingError,
    CapacityBelowBooked,
    CardLocked,
    CardNotFound,
    Conflict,
    InsufficientBalance,
    InvalidInput,
    NotFound,
    SlotFull,
    WrongPin,
)
from softswitch.hospital.booking.records import (
    HALVES,
    KINDS,
    Booking,
    Card,
    Department,
    ExamType,
    Expert,
    LedgerEntry,
    Session,
)
from softswitch.hospital.booking.service import BookingService, RosterEntry

__all__ = [
    "HALVES",
    "KINDS",
    "AlreadyBooked",
    "Booking",
    "BookingError",
    "BookingService",
    "CapacityBelowBooked",
    "Card",
    "CardLocked",
    "CardNotFound",
    "Conflict",
    "Department",
    "ExamType",
    "Expert",
    "InsufficientBalance",
    "InvalidInput",
    "LedgerEntry",
    "NotFound",
    "RosterEntry",
    "Session",
    "SlotFull",
    "WrongPin",
]
