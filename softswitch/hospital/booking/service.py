"""BookingService: visit cards, the clinic catalogue, sessions and bookings over the switch's
SQLite database. One instance per switch, shared by the phone flow, the web pages and the API.

Why bookings are safe under concurrency: :meth:`BookingService.book` is one write operation of
the store (``BEGIN IMMEDIATE`` ... ``COMMIT``), which reads capacity and balance and writes the
session count, the card balance, the ledger row, the ticket counter and the booking together.
The store serialises write transactions (its lock in this process, SQLite's write lock across
processes such as the CLI), so two callers can never both take the last place or both spend
the same money; the CHECK constraints (booked <= capacity, balance >= 0) back this up.

Refusals (full, already booked, no money) are returned from the operation rather than raised
in it: the operation wrote nothing, so the store need not roll back the other bookings that
were grouped into the same commit.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from softswitch.hospital.booking import validate
from softswitch.hospital.booking.errors import (
    AlreadyBooked,
    BookingError,
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
    Booking,
    Card,
    Department,
    ExamType,
    Expert,
    LedgerEntry,
    Session,
    yuan,
)
from softswitch.hospital.booking.rows import (
    BOOKING_SELECT,
    CARD_SELECT,
    DEPARTMENT_SELECT,
    EXAM_SELECT,
    EXPERT_SELECT,
    LEDGER_SELECT,
    SESSION_ORDER,
    SESSION_SELECT,
    to_booking,
    to_card,
    to_department,
    to_exam,
    to_expert,
    to_ledger,
    to_session,
)
from softswitch.hospital.booking.session_spec import SessionSpec
from softswitch.hospital.booking.tickets import NEXT_SEQUENCE, is_ticket, ticket, ticket_prefix
from softswitch.store import Database
from softswitch.store.sqlite import Transaction
from softswitch.switch.directory import hash_pin, verify_pin

__all__ = ["BookingService", "RosterEntry"]

# Checked against when the card does not exist, so an unknown card costs the same PBKDF2 work
# as a wrong PIN and the two cannot be told apart by timing.
_DUMMY_PIN_HASH = hash_pin("000000", salt=b"softswitch-dummy")
_MAX_DAYS = 62


@dataclass(frozen=True)
class RosterEntry:
    """One row of a day's expert roster as staff set it (fee None: the department's fee)."""

    expert_id: int
    half: str
    capacity: int
    fee: Decimal | None = None


class BookingService:
    """The booking contract (docs/architecture.md, "Appointment booking"): reads are plain queries, every change is
    one store transaction; errors are :class:`BookingError` with a patient-safe message."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Callable[[], float] = time.time,
        max_pin_failures: int = 5,
        lockout_seconds: float = 900.0,
    ) -> None:
        self._conn = database.connection
        self._clock = clock
        self.max_pin_failures = max_pin_failures
        self.lockout_seconds = lockout_seconds

    def today(self) -> datetime.date:
        """The hospital's local date now (from the injected clock)."""
        return datetime.datetime.fromtimestamp(self._clock()).date()

    # -- visit cards ---------------------------------------------------------------------

    async def card(self, card: str) -> Card | None:
        if not validate.is_card(card):
            return None
        row = await self._conn.fetch_one(CARD_SELECT + " WHERE number = ?", (card,))
        return to_card(row) if row is not None else None

    async def verify_card(self, card: str, pin: str, *, source: str) -> Card:
        """Card number + PIN -> the card. Raises CardLocked (too many recent failures, even
        with the right PIN), CardNotFound or WrongPin (same message); failures are stored per
        card number, known or not, so a lockout reveals nothing either."""
        now = self._clock()
        if not validate.is_card(card):
            verify_pin(str(pin), _DUMMY_PIN_HASH)  # the same work as for a real card
            raise CardNotFound()
        failures = await self._conn.fetch_one(
            "SELECT COUNT(*) FROM booking_pin_failures WHERE card = ? AND at > ?",
            (card, now - self.lockout_seconds))
        if failures is not None and failures[0] >= self.max_pin_failures:
            raise CardLocked()
        row = await self._conn.fetch_one(CARD_SELECT + " WHERE number = ?", (card,))
        good = verify_pin(str(pin), row["pin_hash"] if row is not None else _DUMMY_PIN_HASH)
        if row is None or not good:
            await self._conn.write_statements((
                ("DELETE FROM booking_pin_failures WHERE at <= ?",
                 [(now - self.lockout_seconds,)]),
                ("INSERT INTO booking_pin_failures (card, at, source) VALUES (?, ?, ?)",
                 [(card, now, validate.text(source, 64))]),
            ))
            raise CardNotFound() if row is None else WrongPin()
        if failures is not None and failures[0]:
            await self._conn.write_statements(
                (("DELETE FROM booking_pin_failures WHERE card = ?", [(card,)]),))
        return to_card(row)

    async def add_card(
        self,
        number: str,
        pin: str,
        name: str,
        *,
        phones: Iterable[str] = (),
        insurance: str = "self-pay",
        balance: Decimal | int | str = Decimal(0),
    ) -> Card:
        """A new visit card (the HIS issues the number); the opening balance is a ledger row."""
        number = validate.card_number(number)
        pin_hash = hash_pin(validate.pin(pin))
        name = validate.label(name, "name")
        numbers = validate.phones(phones)
        insurance = validate.label(insurance, "insurance", max_length=32)
        fen = validate.amount_fen(balance, "balance")
        now = self._clock()

        async def op(tx: Transaction) -> BookingError | None:
            if await tx.fetch_all("SELECT 1 FROM booking_cards WHERE number = ?", (number,)):
                return Conflict(f"card {number} already exists")
            await tx.execute(
                "INSERT INTO booking_cards (number, pin_hash, name, phones, insurance, "
                "balance_cents, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (number, pin_hash, name, json.dumps(numbers), insurance, fen, now, now))
            await tx.execute(
                "INSERT INTO booking_ledger (card, at, amount_cents, balance_after_cents, "
                "reason, note) VALUES (?, ?, ?, ?, 'open', 'opening balance')",
                (number, now, fen, fen))
            return None

        _raise_if_error(await self._conn.write(op))
        return Card(number, name, numbers, insurance, yuan(fen))

    async def update_card(
        self,
        card: str,
        *,
        name: str | None = None,
        phones: Iterable[str] | None = None,
        insurance: str | None = None,
        pin: str | None = None,
    ) -> Card:
        """Change a card's details (None: unchanged); a new PIN also clears its lockout."""
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = validate.label(name, "name")
        if phones is not None:
            changes["phones"] = json.dumps(validate.phones(phones))
        if insurance is not None:
            changes["insurance"] = validate.label(insurance, "insurance", max_length=32)
        if pin is not None:
            changes["pin_hash"] = hash_pin(validate.pin(pin))
        if not validate.is_card(card):
            raise NotFound(f"no card {card}")
        changes["updated_at"] = self._clock()
        assignments = ", ".join(f"{column} = ?" for column in changes)

        async def op(tx: Transaction) -> bool:
            found = await tx.execute(f"UPDATE booking_cards SET {assignments} WHERE number = ?",
                                     (*changes.values(), card))
            if found and pin is not None:
                await tx.execute("DELETE FROM booking_pin_failures WHERE card = ?", (card,))
            return bool(found)

        if not await self._conn.write(op):
            raise NotFound(f"no card {card}")
        updated = await self.card(card)
        assert updated is not None
        return updated

    async def change_balance(self, card: str, amount: Decimal | int | str, *,
                             reason: str = "topup", note: str = "") -> Card:
        """Add (top-up) or take (a correction) money; never below zero. One ledger row."""
        fen = validate.amount_fen(amount, "amount", signed=True)
        if reason not in ("topup", "adjust"):
            raise InvalidInput("reason", "must be topup or adjust")
        if reason == "topup" and fen <= 0:
            raise InvalidInput("amount", "a top-up must be more than zero")
        if not validate.is_card(card):
            raise NotFound(f"no card {card}")
        now = self._clock()

        async def op(tx: Transaction) -> BookingError | None:
            rows = await tx.fetch_all(
                "SELECT balance_cents FROM booking_cards WHERE number = ?", (card,))
            if not rows:
                return NotFound(f"no card {card}")
            after = rows[0][0] + fen
            if after < 0:
                return InsufficientBalance(f"the balance is only {yuan(rows[0][0])} yuan")
            if after > validate.MAX_AMOUNT_FEN:
                return InvalidInput("amount", "the balance would be too large")
            await tx.execute("UPDATE booking_cards SET balance_cents = ?, updated_at = ? "
                             "WHERE number = ?", (after, now, card))
            await tx.execute(
                "INSERT INTO booking_ledger (card, at, amount_cents, balance_after_cents, "
                "reason, note) VALUES (?, ?, ?, ?, ?, ?)",
                (card, now, fen, after, reason, validate.text(note, 200)))
            return None

        _raise_if_error(await self._conn.write(op))
        updated = await self.card(card)
        assert updated is not None
        return updated

    async def ledger(self, card: str) -> list[LedgerEntry]:
        """Every movement of the card's money, oldest first (for audits and disputes)."""
        if not validate.is_card(card):
            return []
        rows = await self._conn.fetch_all(LEDGER_SELECT + " WHERE l.card = ? ORDER BY l.id",
                                          (card,))
        return [to_ledger(row) for row in rows]

    # -- catalogue: departments, experts, exam types -------------------------------------

    async def departments(self) -> list[Department]:
        """Sorted by menu digit; departments without a digit last."""
        rows = await self._conn.fetch_all(
            DEPARTMENT_SELECT + " ORDER BY digit IS NULL, digit, code")
        return [to_department(row) for row in rows]

    async def department(self, code: str) -> Department | None:
        if not validate.is_code(code):
            return None
        row = await self._conn.fetch_one(DEPARTMENT_SELECT + " WHERE code = ?", (code,))
        return to_department(row) if row is not None else None

    async def set_department(self, code: str, *, digit: str, name_zh: str, name_en: str,
                             general_fee: Decimal | int | str) -> Department:
        """Add or replace a department (its code is its identity)."""
        return await self._put_department(code, digit, name_zh, name_en, general_fee,
                                          new=False)

    async def add_department(self, code: str, digit: str, name_zh: str, name_en: str,
                             general_fee: Decimal | int | str) -> Department:
        """A new department; Conflict if the code exists (use set_department to change)."""
        return await self._put_department(code, digit, name_zh, name_en, general_fee, new=True)

    async def _put_department(self, code: str, digit: str, name_zh: str, name_en: str,
                              general_fee: Decimal | int | str, *, new: bool) -> Department:
        dept = Department(validate.code(code), validate.digit(digit),
                          validate.label(name_zh, "name_zh"), validate.label(name_en, "name_en"),
                          yuan(validate.amount_fen(general_fee, "general_fee")))

        async def op(tx: Transaction) -> BookingError | None:
            if new and await tx.fetch_all("SELECT 1 FROM booking_departments WHERE code = ?",
                                          (dept.code,)):
                return Conflict(f"department {dept.code} already exists")
            if dept.digit and await tx.fetch_all(
                    "SELECT 1 FROM booking_departments WHERE digit = ? AND code != ?",
                    (dept.digit, dept.code)):
                return Conflict(f"menu digit {dept.digit} is already another department's")
            await tx.execute(
                "INSERT INTO booking_departments (code, digit, name_zh, name_en, "
                "general_fee_cents) VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
                "digit = excluded.digit, name_zh = excluded.name_zh, name_en = excluded.name_en, "
                "general_fee_cents = excluded.general_fee_cents",
                (dept.code, dept.digit or None, dept.name_zh, dept.name_en,
                 validate.amount_fen(dept.general_fee, "general_fee")))
            return None

        _raise_if_error(await self._conn.write(op))
        return dept

    async def remove_department(self, code: str) -> None:
        """Only a department nothing refers to (no experts, no sessions) can go."""
        if not validate.is_code(code):
            raise NotFound(f"no department {code}")

        async def op(tx: Transaction) -> BookingError | None:
            if not await tx.fetch_all("SELECT 1 FROM booking_departments WHERE code = ?",
                                      (code,)):
                return NotFound(f"no department {code}")
            if await tx.fetch_all(
                    "SELECT 1 FROM booking_experts WHERE department = ? UNION ALL "
                    "SELECT 1 FROM booking_sessions WHERE department = ? AND kind != 'exam'",
                    (code, code)):
                return Conflict(f"department {code} still has experts or sessions")
            await tx.execute("DELETE FROM booking_departments WHERE code = ?", (code,))
            return None

        _raise_if_error(await self._conn.write(op))

    async def experts(self, department: str | None = None) -> list[Expert]:
        """Active experts, by department then name."""
        sql, params = EXPERT_SELECT + " WHERE active = 1", ()
        if department is not None and not validate.is_code(department):
            return []
        if department is not None:
            sql, params = sql + " AND department = ?", (department,)
        rows = await self._conn.fetch_all(sql + " ORDER BY department, name, id", params)
        return [to_expert(row) for row in rows]

    async def expert(self, expert_id: int) -> Expert | None:
        if not validate.row_id(expert_id):
            return None
        row = await self._conn.fetch_one(EXPERT_SELECT + " WHERE id = ?", (expert_id,))
        return to_expert(row) if row is not None else None

    async def add_expert(self, name: str, department: str, title: str = "") -> Expert:
        name = validate.label(name, "name")
        title = validate.label(title, "title") if title else ""
        if not validate.is_code(department):
            raise NotFound(f"no department {department}")

        async def op(tx: Transaction) -> BookingError | int:
            if not await tx.fetch_all("SELECT 1 FROM booking_departments WHERE code = ?",
                                      (department,)):
                return NotFound(f"no department {department}")
            return await tx.insert(
                "INSERT INTO booking_experts (name, department, title) VALUES (?, ?, ?)",
                (name, department, title))

        expert_id = _raise_if_error(await self._conn.write(op))
        return Expert(expert_id, name, department, title)

    async def remove_expert(self, expert_id: int) -> None:
        """Retire an expert: hidden from lists; their sessions without bookings are removed,
        and one with bookings refuses (cancel or move those patients first)."""
        if not validate.row_id(expert_id):
            raise NotFound(f"no expert {expert_id}")

        async def op(tx: Transaction) -> BookingError | None:
            if not await tx.fetch_all("SELECT 1 FROM booking_experts WHERE id = ? AND active = 1",
                                      (expert_id,)):
                return NotFound(f"no expert {expert_id}")
            if await tx.fetch_all("SELECT 1 FROM booking_sessions WHERE expert_id = ? AND "
                                  "booked > 0 AND day >= ?",
                                  (expert_id, self.today().isoformat())):
                return Conflict("this expert has booked sessions")
            await tx.execute("DELETE FROM booking_sessions WHERE expert_id = ? AND booked = 0",
                             (expert_id,))
            await tx.execute("UPDATE booking_experts SET active = 0 WHERE id = ?", (expert_id,))
            return None

        _raise_if_error(await self._conn.write(op))

    async def exam_types(self) -> list[ExamType]:
        rows = await self._conn.fetch_all(EXAM_SELECT + " ORDER BY digit IS NULL, digit, code")
        return [to_exam(row) for row in rows]

    async def set_exam_type(self, code: str, *, digit: str, name_zh: str, name_en: str,
                            fee: Decimal | int | str) -> ExamType:
        """Add or replace an exam type (ultrasound, X-ray...)."""
        exam = ExamType(validate.code(code), validate.digit(digit),
                        validate.label(name_zh, "name_zh"), validate.label(name_en, "name_en"),
                        yuan(validate.amount_fen(fee, "fee")))

        async def op(tx: Transaction) -> BookingError | None:
            if exam.digit and await tx.fetch_all(
                    "SELECT 1 FROM booking_exam_types WHERE digit = ? AND code != ?",
                    (exam.digit, exam.code)):
                return Conflict(f"menu digit {exam.digit} is already another exam's")
            await tx.execute(
                "INSERT INTO booking_exam_types (code, digit, name_zh, name_en, fee_cents) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET digit = excluded.digit, "
                "name_zh = excluded.name_zh, name_en = excluded.name_en, "
                "fee_cents = excluded.fee_cents",
                (exam.code, exam.digit or None, exam.name_zh, exam.name_en,
                 validate.amount_fen(exam.fee, "fee")))
            return None

        _raise_if_error(await self._conn.write(op))
        return exam

    # -- sessions (general clinics, expert roster rows, exam slots) -----------------------

    async def sessions(
        self,
        *,
        kind: str,
        department: str | None = None,
        exam: str | None = None,
        on: datetime.date | None = None,
        start: datetime.date | None = None,
        days: int = 1,
    ) -> list[Session]:
        """Sessions of one kind on ``on``, or on ``days`` days from ``start`` (default today),
        by date, morning first."""
        validate.kind(kind)
        if any(v is not None and not validate.is_code(v) for v in (department, exam)):
            return []
        if not 1 <= days <= _MAX_DAYS:
            raise InvalidInput("days", f"must be 1 to {_MAX_DAYS}")
        first = on if on is not None else (start if start is not None else self.today())
        last = first + datetime.timedelta(days=1 if on is not None else days)
        sql = SESSION_SELECT + " WHERE s.kind = ? AND s.day >= ? AND s.day < ?"
        params: list[Any] = [kind, first.isoformat(), last.isoformat()]
        if department is not None:
            sql, params = sql + " AND s.department = ?", [*params, department]
        if exam is not None:
            sql, params = sql + " AND s.exam = ?", [*params, exam]
        rows = await self._conn.fetch_all(sql + SESSION_ORDER, params)
        return [to_session(row) for row in rows]

    async def session(self, session_id: int) -> Session | None:
        if not validate.row_id(session_id):
            return None
        row = await self._conn.fetch_one(SESSION_SELECT + " WHERE s.id = ?", (session_id,))
        return to_session(row) if row is not None else None

    async def set_session(
        self,
        *,
        kind: str,
        on: datetime.date | str,
        half: str,
        capacity: int,
        department: str | None = None,
        expert_id: int | None = None,
        exam: str | None = None,
        fee: Decimal | int | str | None = None,
    ) -> Session:
        """Add or change one session, found by (kind, department/expert/exam, date, half).

        General: ``department``; expert: ``expert_id`` (department is the expert's); exam:
        ``exam``. ``fee`` None means the department's general fee or the exam's fee. Lowering
        the capacity below what is already booked raises CapacityBelowBooked.
        """
        spec = SessionSpec.checked(kind, on, half, capacity, department, expert_id, exam, fee)
        session_id = _raise_if_error(await self._conn.write(spec.upsert))
        found = await self.session(session_id)
        assert found is not None
        return found

    async def remove_session(self, session_id: int) -> None:
        """Only a session nobody has booked can be removed."""
        if not validate.row_id(session_id):
            raise NotFound(f"no session {session_id}")

        async def op(tx: Transaction) -> BookingError | None:
            rows = await tx.fetch_all("SELECT booked FROM booking_sessions WHERE id = ?",
                                      (session_id,))
            if not rows:
                return NotFound(f"no session {session_id}")
            if rows[0][0]:
                return Conflict(f"session {session_id} has {rows[0][0]} booking(s)")
            await tx.execute("DELETE FROM booking_sessions WHERE id = ?", (session_id,))
            return None

        _raise_if_error(await self._conn.write(op))

    async def roster(self, on: datetime.date) -> list[Session]:
        """The expert roster of one day."""
        return await self.sessions(kind="expert", on=on)

    async def set_roster(self, on: datetime.date | str, entries: Sequence[RosterEntry]
                         ) -> list[Session]:
        """Replace one day's expert roster in one transaction: listed rows are added or
        changed, unlisted rows are removed; if any row cannot change (capacity below booked,
        removing a booked row, unknown expert) nothing changes."""
        day = validate.date(on)
        specs = [SessionSpec.checked("expert", day, e.half, e.capacity, None, e.expert_id,
                                      None, e.fee) for e in entries]
        keys = [(s.expert_id, s.half) for s in specs]
        if len(set(keys)) != len(keys):
            raise InvalidInput("roster", "an expert is listed twice for the same half-day")

        async def op(tx: Transaction) -> None:
            kept: list[int] = []
            for spec in specs:
                result = await spec.upsert(tx)
                if isinstance(result, BookingError):
                    raise result  # rolls back the rows already changed
                kept.append(result)
            marks = ", ".join("?" * len(kept))  # SQLite accepts an empty IN ()
            stale = await tx.fetch_all(
                f"SELECT s.id, s.booked, e.name FROM booking_sessions s JOIN booking_experts e "
                f"ON e.id = s.expert_id WHERE s.kind = 'expert' AND s.day = ? "
                f"AND s.id NOT IN ({marks})", (day.isoformat(), *kept))
            for row in stale:
                if row["booked"]:
                    raise Conflict(f"{row['name']} has {row['booked']} booking(s) that day")
                await tx.execute("DELETE FROM booking_sessions WHERE id = ?", (row["id"],))

        await self._conn.write(op)
        return await self.roster(day)

    # -- bookings ------------------------------------------------------------------------

    async def book(self, card: str, session_id: int, *, channel: str) -> Booking:
        """Book one place for ``card``: capacity, balance, charge, ledger row, ticket and the
        booking row in ONE transaction. Raises CardNotFound, NotFound (unknown or past
        session), AlreadyBooked, SlotFull or InsufficientBalance; nothing is written then."""
        if not validate.row_id(session_id):
            raise NotFound()
        today = self.today().isoformat()
        now = self._clock()
        channel = validate.text(channel, 32)
        if not validate.is_card(card):
            raise CardNotFound()

        async def op(tx: Transaction) -> Booking | BookingError:
            cards = await tx.fetch_all(
                "SELECT balance_cents FROM booking_cards WHERE number = ?", (card,))
            if not cards:
                return CardNotFound()
            balance = cards[0][0]
            rows = await tx.fetch_all(SESSION_SELECT + " WHERE s.id = ?", (session_id,))
            if not rows:
                return NotFound()
            row = rows[0]
            if row["day"] < today:
                return NotFound("That session has already taken place.")
            if await tx.fetch_all("SELECT 1 FROM booking_bookings WHERE card = ? AND "
                                  "session_id = ?", (card, session_id)):
                return AlreadyBooked()
            if row["booked"] >= row["capacity"]:
                return SlotFull()
            fee = row["fee_cents"]
            if balance < fee:
                return InsufficientBalance()
            if not await tx.execute("UPDATE booking_sessions SET booked = booked + 1 "
                                    "WHERE id = ? AND booked < capacity", (session_id,)):
                return SlotFull()
            after = balance - fee
            await tx.execute("UPDATE booking_cards SET balance_cents = ?, updated_at = ? "
                             "WHERE number = ?", (after, now, card))
            prefix = ticket_prefix(row["kind"], row["menu_digit"],
                                   datetime.date.fromisoformat(row["day"]))
            (sequence,) = (await tx.fetch_all(NEXT_SEQUENCE, (prefix,)))[0]
            number = ticket(prefix, sequence)
            booking_id = await tx.insert(
                "INSERT INTO booking_bookings (ticket, card, session_id, fee_cents, "
                "balance_after_cents, channel, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (number, card, session_id, fee, after, channel, now))
            await tx.execute(
                "INSERT INTO booking_ledger (card, at, amount_cents, balance_after_cents, "
                "reason, booking_id, note) VALUES (?, ?, ?, ?, 'booking', ?, ?)",
                (card, now, -fee, after, booking_id, channel))
            return Booking(ticket=number, card=card, kind=row["kind"],
                           department=row["department"],
                           date=datetime.date.fromisoformat(row["day"]), half=row["half"],
                           expert=row["expert_name"], exam=row["exam"], fee=yuan(fee),
                           balance_after=yuan(after), created_at=now)

        booking: Booking = _raise_if_error(await self._conn.write(op))
        return booking

    async def appointments(self, card: str, *, since: datetime.date | None = None
                           ) -> list[Booking]:
        """The card's bookings by visit date (all of them, or from ``since`` on)."""
        if not validate.is_card(card):
            return []
        sql, params = BOOKING_SELECT + " WHERE b.card = ?", [card]
        if since is not None:
            sql, params = sql + " AND s.day >= ?", [card, since.isoformat()]
        rows = await self._conn.fetch_all(sql + " ORDER BY s.day, s.half = 'afternoon', b.id",
                                          params)
        return [to_booking(row) for row in rows]

    async def booking(self, ticket_number: str) -> Booking | None:
        if not is_ticket(ticket_number):
            return None
        row = await self._conn.fetch_one(BOOKING_SELECT + " WHERE b.ticket = ?",
                                         (ticket_number,))
        return to_booking(row) if row is not None else None


def _raise_if_error(result: Any) -> Any:
    """Operations return their refusal instead of raising it (see the module docstring)."""
    if isinstance(result, BookingError):
        raise result
    return result
