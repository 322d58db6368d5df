"""Why a booking, a card check or a staff change was refused.

Every error has a ``code`` (stable, for programs: the web pages and the HTTP API) and a
``message`` that is safe to show or speak to a patient: it never says whether a card exists
when the PIN was wrong, and never carries a stack trace or SQL.

::

    BookingError
    ├── CardNotFound            unknown card (same message as WrongPin)
    ├── WrongPin                wrong PIN (counted toward CardLocked)
    ├── CardLocked              too many wrong PINs for this card recently
    ├── InsufficientBalance     the card cannot pay the fee
    ├── SlotFull                no capacity left in that session
    ├── AlreadyBooked           this card already holds that session
    ├── NotFound                unknown department, expert, session or exam type
    ├── InvalidInput            staff or HIS input that breaks a rule (``field`` names it)
    └── Conflict                a change that clashes with stored data
        └── CapacityBelowBooked     capacity lowered below what is already booked
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AlreadyBooked",
    "BookingError",
    "CapacityBelowBooked",
    "CardLocked",
    "CardNotFound",
    "Conflict",
    "InsufficientBalance",
    "InvalidInput",
    "NotFound",
    "SlotFull",
    "WrongPin",
]

_CARD_OR_PIN = "The card number or PIN is wrong."


class BookingError(Exception):
    """Base class; ``message`` is patient-safe, ``code`` is for programs."""

    code = "booking_error"
    default_message = "The booking could not be completed."

    def __init_subclass__(cls, *, code: str = "", message: str = "", **kwargs: Any) -> None:
        """A kind of refusal is declared in one line: its code and its default message."""
        super().__init_subclass__(**kwargs)
        if code:
            cls.code = code
        if message:
            cls.default_message = message

    def __init__(self, message: str | None = None) -> None:
        # Messages may quote what was sent: keep them printable and encodable everywhere.
        self.message = "".join("?" if ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF else ch
                               for ch in (message or self.default_message)[:300])
        super().__init__(self.message)


class CardNotFound(BookingError, code="card_not_found", message=_CARD_OR_PIN):
    """Unknown card (the same message as WrongPin: a PIN guess learns nothing)."""


class WrongPin(BookingError, code="wrong_pin", message=_CARD_OR_PIN):
    """Wrong PIN (counted toward CardLocked)."""


class CardLocked(BookingError, code="card_locked",
                 message="Too many wrong PINs for this card. Please try again later or ask "
                         "at the registration desk."):
    """Too many wrong PINs for this card recently."""


class InsufficientBalance(BookingError, code="insufficient_balance",
                          message="The balance on the card is not enough for this fee."):
    """The card cannot pay the fee."""


class SlotFull(BookingError, code="slot_full", message="This session is fully booked."):
    """No capacity left in that session."""


class AlreadyBooked(BookingError, code="already_booked",
                    message="This card already has a booking for this session."):
    """This card already holds that session."""


class NotFound(BookingError, code="not_found", message="That choice is not available."):
    """Unknown department, expert, session or exam type."""


class InvalidInput(BookingError, code="invalid_input"):
    """``field`` names the offending input (for the API's 422)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class Conflict(BookingError, code="conflict", message="That change clashes with stored data."):
    """A change that clashes with stored data."""


class CapacityBelowBooked(Conflict, code="capacity_below_booked",
                          message="The capacity cannot be lower than the number already "
                                  "booked."):
    """Capacity lowered below what is already booked."""
