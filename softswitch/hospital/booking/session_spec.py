"""One session as staff set it (general clinic, expert roster row or exam slot): the checks
that need no database, then an upsert that runs inside the caller's write transaction."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from softswitch.hospital.booking import validate
from softswitch.hospital.booking.errors import (
    BookingError,
    CapacityBelowBooked,
    InvalidInput,
    NotFound,
)
from softswitch.store.sqlite import Transaction

__all__ = ["SessionSpec"]


@dataclass(frozen=True)
class SessionSpec:
    """A checked set_session request."""

    kind: str
    day: datetime.date
    half: str
    capacity: int
    department: str | None
    expert_id: int | None
    exam: str | None
    fee_fen: int | None

    @classmethod
    def checked(cls, kind: str, on: datetime.date | str, half: str, capacity: int,
                department: str | None, expert_id: int | None, exam: str | None,
                fee: Decimal | int | str | None) -> SessionSpec:
        kind = validate.kind(kind)
        needs = {"general": (department, "department"), "expert": (expert_id, "expert_id"),
                 "exam": (exam, "exam")}[kind]
        if kind == "expert" and expert_id is not None and not validate.row_id(expert_id):
            raise NotFound(f"no expert {expert_id}")
        for name, value in (("department", department), ("exam", exam)):
            if value is not None and not validate.is_code(value):
                raise NotFound(f"no {name} {value}")
        if needs[0] is None:
            raise InvalidInput(needs[1], f"is required for a {kind} session")
        if kind != "expert" and expert_id is not None:
            raise InvalidInput("expert_id", f"is not allowed for a {kind} session")
        if kind != "exam" and exam is not None:
            raise InvalidInput("exam", f"is not allowed for a {kind} session")
        return cls(kind, validate.date(on), validate.half(half), validate.capacity(capacity),
                   department, expert_id, exam,
                   None if fee is None else validate.amount_fen(fee, "fee"))

    async def upsert(self, tx: Transaction) -> int | BookingError:
        """Insert or update; the session id, or the refusal (nothing written then)."""
        department, default_fee = await self._owner(tx)
        if isinstance(department, BookingError):
            return department
        fee = self.fee_fen if self.fee_fen is not None else default_fee
        key = (self.kind, department, self.day.isoformat(), self.half, self.expert_id or 0,
               self.exam or "")
        rows = await tx.fetch_all(
            "SELECT id, booked FROM booking_sessions WHERE kind = ? AND department = ? AND "
            "day = ? AND half = ? AND IFNULL(expert_id, 0) = ? AND IFNULL(exam, '') = ?", key)
        if not rows:
            return await tx.insert(
                "INSERT INTO booking_sessions (kind, department, day, half, expert_id, exam, "
                "capacity, fee_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*key[:4], self.expert_id, self.exam, self.capacity, fee))
        session_id, booked = rows[0]
        if self.capacity < booked:
            return CapacityBelowBooked(
                f"{booked} place(s) already booked; the capacity cannot be {self.capacity}")
        await tx.execute("UPDATE booking_sessions SET capacity = ?, fee_cents = ? WHERE id = ?",
                         (self.capacity, fee, session_id))
        return int(session_id)

    async def _owner(self, tx: Transaction) -> tuple[str | BookingError, int]:
        """The session's department column and its default fee in fen."""
        if self.kind == "exam":
            rows = await tx.fetch_all("SELECT fee_cents FROM booking_exam_types WHERE code = ?",
                                      (self.exam,))
            return (self.exam or "", rows[0][0]) if rows else (NotFound(f"no exam {self.exam}"), 0)
        if self.kind == "expert":
            rows = await tx.fetch_all(
                "SELECT e.department, d.general_fee_cents FROM booking_experts e JOIN "
                "booking_departments d ON d.code = e.department WHERE e.id = ? AND e.active = 1",
                (self.expert_id,))
            if not rows:
                return NotFound(f"no expert {self.expert_id}"), 0
            if self.department is not None and self.department != rows[0][0]:
                return InvalidInput("department", "is not the expert's department"), 0
            return rows[0][0], rows[0][1]
        rows = await tx.fetch_all(
            "SELECT general_fee_cents FROM booking_departments WHERE code = ?", (self.department,))
        if not rows:
            return NotFound(f"no department {self.department}"), 0
        return self.department or "", rows[0][0]
