"""`/api/cards`, `/api/departments`, `/api/experts`, `/api/exams`, `/api/sessions`,
`/api/roster`, `/api/bookings`, `/api/appointments`: the booking data over HTTP for the HIS
and for staff, with exactly the rules of :class:`BookingService`.

Refusals carry the service's reason: 404 unknown, 409 clashes (full, already booked, capacity
below booked, no money), 422 bad input, 423 a locked card. Money is a string with two decimals
("12.50") so nothing passes through a float. No response ever holds a PIN or its hash.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from softswitch.hospital.booking import (
    AlreadyBooked,
    Booking,
    BookingError,
    BookingService,
    Card,
    CardLocked,
    CardNotFound,
    Conflict,
    Department,
    ExamType,
    Expert,
    InsufficientBalance,
    InvalidInput,
    LedgerEntry,
    NotFound,
    RosterEntry,
    Session,
    SlotFull,
    WrongPin,
    validate,
)

__all__ = ["appointment_json", "booking_router", "card_json", "session_json"]

Amount = Decimal | int | str

_STATUS: tuple[tuple[type[BookingError], int], ...] = (
    (CardNotFound, status.HTTP_404_NOT_FOUND),
    (NotFound, status.HTTP_404_NOT_FOUND),
    (InvalidInput, 422),
    (CardLocked, status.HTTP_423_LOCKED),
    (WrongPin, status.HTTP_403_FORBIDDEN),
    (SlotFull, status.HTTP_409_CONFLICT),
    (AlreadyBooked, status.HTTP_409_CONFLICT),
    (InsufficientBalance, status.HTTP_409_CONFLICT),
    (Conflict, status.HTTP_409_CONFLICT),
)


class _RefusingRoute(APIRoute):
    """Every booking route: a BookingError becomes an HTTP error with its reason and code
    (X-Error-Code), never a 500; one place instead of a wrapper in every route body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def refusing(request: Request) -> Response:
            try:
                return await handler(request)
            except BookingError as error:
                code = next((c for kind, c in _STATUS if isinstance(error, kind)), 400)
                raise HTTPException(code, detail=error.message,
                                    headers={"X-Error-Code": error.code}) from None

        return refusing


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def card_json(card: Card) -> dict[str, Any]:
    return {"card": card.number, "name": card.name, "phones": list(card.phones),
            "insurance": card.insurance, "balance": _money(card.balance)}


def _department_json(dept: Department) -> dict[str, Any]:
    return {"code": dept.code, "digit": dept.digit, "name_zh": dept.name_zh,
            "name_en": dept.name_en, "general_fee": _money(dept.general_fee)}


def _expert_json(expert: Expert) -> dict[str, Any]:
    return {"id": expert.id, "name": expert.name, "department": expert.department,
            "title": expert.title}


def _exam_json(exam: ExamType) -> dict[str, Any]:
    return {"code": exam.code, "digit": exam.digit, "name_zh": exam.name_zh,
            "name_en": exam.name_en, "fee": _money(exam.fee)}


def session_json(session: Session) -> dict[str, Any]:
    return {"id": session.id, "kind": session.kind, "department": session.department,
            "date": session.date.isoformat(), "session": session.half,
            "expert": _expert_json(session.expert) if session.expert else None,
            "exam": session.exam, "capacity": session.capacity, "booked": session.booked,
            "remaining": session.remaining, "fee": _money(session.fee)}


def appointment_json(booking: Booking) -> dict[str, Any]:
    """Exactly the fields the HIS reads: card, kind, department, date, session, expert,
    ticket, fee."""
    return {"card": booking.card, "kind": booking.kind, "department": booking.department,
            "date": booking.date.isoformat(), "session": booking.half,
            "expert": booking.expert, "ticket": booking.ticket, "fee": _money(booking.fee)}


def _ledger_json(entry: LedgerEntry) -> dict[str, Any]:
    return {"at": entry.at, "amount": _money(entry.amount),
            "balance_after": _money(entry.balance_after), "reason": entry.reason,
            "ticket": entry.ticket, "note": entry.note}


class NewCard(BaseModel):
    """POST /api/cards. ``phone`` (one number) or ``phones`` (several), or both."""

    card: str
    pin: str = Field(repr=False)
    name: str
    phone: str | None = None
    phones: list[str] = []
    insurance: str = "self-pay"
    balance: Amount = "0"


class CardChange(BaseModel):
    """PATCH /api/cards/{card}: only the fields given change."""

    name: str | None = None
    phones: list[str] | None = None
    insurance: str | None = None
    pin: str | None = Field(default=None, repr=False)


class BalanceChange(BaseModel):
    """POST /api/cards/{card}/balance: a top-up (> 0) or an adjustment (either sign)."""

    amount: Amount
    reason: str = "topup"
    note: str = ""


class DepartmentBody(BaseModel):
    digit: str = ""
    name_zh: str
    name_en: str
    general_fee: Amount


class NewDepartment(DepartmentBody):
    code: str


class NewExpert(BaseModel):
    name: str
    department: str
    title: str = ""


class ExamBody(BaseModel):
    digit: str = ""
    name_zh: str
    name_en: str
    fee: Amount


class SessionBody(BaseModel):
    """PUT /api/sessions: add or change the session found by kind + owner + date + half."""

    kind: str
    date: str
    session: str
    capacity: int
    department: str | None = None
    expert_id: int | None = None
    exam: str | None = None
    fee: Amount | None = None


class RosterRow(BaseModel):
    expert_id: int
    session: str
    capacity: int
    fee: Amount | None = None


class NewBooking(BaseModel):
    card: str
    session_id: int
    channel: str = "api"


def booking_router(service: BookingService) -> APIRouter:
    """Routes over one BookingService (the switch's)."""
    router = APIRouter(tags=["booking"], route_class=_RefusingRoute)

    def day(value: str | None) -> datetime.date:
        return service.today() if value is None else validate.date(value)

    async def existing_card(card: str) -> Card:
        found = await service.card(card)
        if found is None:
            raise NotFound(f"no card {card}")
        return found

    # -- cards

    @router.post("/cards", status_code=status.HTTP_201_CREATED)
    async def add_card(body: NewCard) -> dict[str, Any]:
        """Issue a visit card (the PIN is stored hashed, the opening balance is a ledger row)."""
        phones = ([body.phone] if body.phone else []) + body.phones
        card = await service.add_card(body.card, body.pin, body.name, phones=phones,
                                      insurance=body.insurance, balance=body.balance)
        return card_json(card)

    @router.get("/cards/{card}")
    async def get_card(card: str) -> dict[str, Any]:
        """A card: name, phones, insurance, balance (never the PIN)."""
        return card_json(await existing_card(card))

    @router.patch("/cards/{card}")
    async def change_card(card: str, body: CardChange) -> dict[str, Any]:
        """Change name, phones, insurance or PIN (a new PIN lifts a lockout)."""
        updated = await service.update_card(card, name=body.name, phones=body.phones,
                                            insurance=body.insurance, pin=body.pin)
        return card_json(updated)

    @router.post("/cards/{card}/balance")
    async def change_balance(card: str, body: BalanceChange) -> dict[str, Any]:
        """Top up (reason topup, amount > 0) or correct (reason adjust); never below zero."""
        updated = await service.change_balance(card, body.amount, reason=body.reason,
                                               note=body.note)
        return card_json(updated)

    @router.get("/cards/{card}/ledger")
    async def ledger(card: str) -> list[dict[str, Any]]:
        """Every movement of the card's money, oldest first."""
        await existing_card(card)
        return [_ledger_json(entry) for entry in await service.ledger(card)]

    # -- departments, experts, exam types

    @router.get("/departments")
    async def departments() -> list[dict[str, Any]]:
        """Departments by phone menu digit."""
        return [_department_json(d) for d in await service.departments()]

    @router.post("/departments", status_code=status.HTTP_201_CREATED)
    async def add_department(body: NewDepartment) -> dict[str, Any]:
        """A new department (409 if the code or the digit is taken)."""
        dept = await service.add_department(body.code, body.digit, body.name_zh,
                                            body.name_en, body.general_fee)
        return _department_json(dept)

    @router.put("/departments/{code}")
    async def set_department(code: str, body: DepartmentBody) -> dict[str, Any]:
        """Add or replace a department."""
        dept = await service.set_department(code, digit=body.digit, name_zh=body.name_zh,
                                            name_en=body.name_en,
                                            general_fee=body.general_fee)
        return _department_json(dept)

    @router.delete("/departments/{code}", status_code=status.HTTP_204_NO_CONTENT)
    async def remove_department(code: str) -> Response:
        """Remove a department that has no experts and no sessions."""
        await service.remove_department(code)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/experts")
    async def experts(department: str | None = None) -> list[dict[str, Any]]:
        """Active experts, optionally of one department."""
        return [_expert_json(e) for e in await service.experts(department)]

    @router.post("/experts", status_code=status.HTTP_201_CREATED)
    async def add_expert(body: NewExpert) -> dict[str, Any]:
        """A new expert in a department."""
        expert = await service.add_expert(body.name, body.department, body.title)
        return _expert_json(expert)

    @router.delete("/experts/{expert_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def remove_expert(expert_id: int) -> Response:
        """Retire an expert (refused while they have future bookings)."""
        await service.remove_expert(expert_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/exams")
    async def exams() -> list[dict[str, Any]]:
        """Exam types by phone menu digit."""
        return [_exam_json(x) for x in await service.exam_types()]

    @router.put("/exams/{code}")
    async def set_exam(code: str, body: ExamBody) -> dict[str, Any]:
        """Add or replace an exam type."""
        exam = await service.set_exam_type(code, digit=body.digit, name_zh=body.name_zh,
                                           name_en=body.name_en, fee=body.fee)
        return _exam_json(exam)

    # -- sessions and the expert roster

    @router.get("/sessions")
    async def sessions(
        kind: str = "general",
        department: str | None = None,
        exam: str | None = None,
        date: str | None = Query(None, description="first day, YYYY-MM-DD (default today)"),
        days: int = 1,
    ) -> list[dict[str, Any]]:
        """Bookable half-days of one kind from a date (default today)."""
        found = await service.sessions(kind=kind, department=department, exam=exam,
                                       start=day(date), days=days)
        return [session_json(s) for s in found]

    @router.put("/sessions")
    async def set_session(body: SessionBody) -> dict[str, Any]:
        """Add or change one session (capacity below what is booked: 409)."""
        session = await service.set_session(
            kind=body.kind, on=body.date, half=body.session, capacity=body.capacity,
            department=body.department, expert_id=body.expert_id, exam=body.exam,
            fee=body.fee)
        return session_json(session)

    @router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def remove_session(session_id: int) -> Response:
        """Remove a session nobody has booked."""
        await service.remove_session(session_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/roster")
    async def roster(date: str | None = None) -> list[dict[str, Any]]:
        """One day's expert roster (default today)."""
        return [session_json(s) for s in await service.roster(day(date))]

    @router.put("/roster")
    async def set_roster(rows: list[RosterRow], date: str | None = None
                         ) -> list[dict[str, Any]]:
        """Replace one day's expert roster as a whole (all or nothing)."""
        entries = [RosterEntry(r.expert_id, r.session, r.capacity, r.fee) for r in rows]
        return [session_json(s) for s in await service.set_roster(day(date), entries)]

    # -- bookings

    @router.post("/bookings", status_code=status.HTTP_201_CREATED)
    async def book(body: NewBooking) -> dict[str, Any]:
        """Book a place for a card: charged and ticketed in one transaction."""
        booking = await service.book(body.card, body.session_id, channel=body.channel)
        return {**appointment_json(booking), "balance_after": _money(booking.balance_after)}

    @router.get("/bookings/{ticket}")
    async def get_booking(ticket: str) -> dict[str, Any]:
        """One booking by its ticket number (as printed by the kiosk)."""
        booking = await service.booking(ticket)
        if booking is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no booking {ticket}")
        return appointment_json(booking)

    @router.get("/appointments")
    async def appointments(card: str, since: str | None = None) -> list[dict[str, Any]]:
        """A card's bookings: card, kind, department, date, session, expert, ticket, fee."""
        await existing_card(card)
        found = await service.appointments(
            card, since=None if since is None else validate.date(since, "since"))
        return [appointment_json(b) for b in found]

    return router
