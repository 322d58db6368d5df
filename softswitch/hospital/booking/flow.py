"""The appointment line (number 8000): card and PIN, clinic or exam, choose, pay, ticket.

The dialogue follows the hospital's requirement (PRODUCT.md section 2): card number then PIN
(each ended by #, three wrong tries end the call), the balance, "general clinic press 1,
expert clinic press 2, examinations press 3", a department menu built from the booking data,
"you chose X, press 1 to confirm, 2 to re-enter"; an expert visit adds the day (with confirm)
and that day's experts by half-day with their names; the fee is announced before anything is
charged, and :meth:`BookingService.book` charges and stores in one transaction, so the phone
never decides capacity or money itself. Full sessions, a low balance or a repeated booking
are explained and the caller may choose again. ``*`` at the first prompt switches between
Chinese (the default) and English.

Every question is a ``Call.menu`` or ``Call.collect`` with a timeout: silence and wrong keys
are asked again, and a menu that runs out of tries ends the call with a goodbye (the
runner's ``NoValidInput`` handling).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Protocol

from softswitch.flows import Call, FlowFunc, Prompt
from softswitch.flows.tts import TextToSpeech
from softswitch.hospital.booking import (
    AlreadyBooked,
    Booking,
    BookingError,
    Card,
    CardLocked,
    Department,
    ExamType,
    InsufficientBalance,
    NotFound,
    Session,
    SlotFull,
)
from softswitch.hospital.booking.phone.settings import PhoneSettings
from softswitch.hospital.booking.phone.speech import BookingSpeech

__all__ = ["BookingLine", "PhoneSettings", "make_appointments_flow"]

log = logging.getLogger(__name__)

HALVES = ("morning", "afternoon")


class BookingServiceLike(Protocol):
    """The part of :class:`BookingService` the phone uses: the line needs nothing else."""

    async def verify_card(self, card: str, pin: str, *, source: str) -> Card: ...
    async def card(self, card: str) -> Card | None: ...
    async def departments(self) -> list[Department]: ...
    async def exam_types(self) -> list[ExamType]: ...
    async def sessions(self, *, kind: str, department: str | None = None,
                       exam: str | None = None, on: dt.date | None = None,
                       start: dt.date | None = None, days: int = 1) -> list[Session]: ...
    async def book(self, card: str, session_id: int, *, channel: str) -> Booking: ...
    def today(self) -> dt.date: ...


class BookingLine:
    """One call of the booking line: the dialogue's state (card, language) and its steps."""

    def __init__(self, call: Call, service: BookingServiceLike, tts: TextToSpeech | None,
                 settings: PhoneSettings) -> None:
        self.call = call
        self.service = service
        self.tts = tts
        self.today = service.today  # the hospital's date, from the service's clock
        self.settings = settings
        if settings.language:
            call.language = settings.language
        self.speech = BookingSpeech(tts, call.language)

    # -- small helpers --------------------------------------------------------------------

    def _set_language(self, language: str) -> None:
        self.call.language = language
        self.speech = BookingSpeech(self.tts, language)

    async def _menu(self, prompt: Sequence[Prompt], options: dict[str, object]) -> object:
        return await self.call.menu(list(prompt), options, timeout=self.settings.timeout)

    async def _yes_no(self, prompt: Sequence[Prompt]) -> bool:
        return bool(await self._menu(prompt, {"1": True, "2": False}))

    async def _end(self, *prompts: Prompt) -> None:
        await self.call.play([*prompts, "goodbye"])
        await self.call.hangup()

    # -- the dialogue ---------------------------------------------------------------------

    async def run(self) -> None:
        """The whole call."""
        call = self.call
        await call.answer()
        card = await self.identify()
        if card is None:
            return
        call.variables["card"] = card.number
        await call.play(["your_balance", *self.speech.money(card.balance)])
        for round_ in range(1, self.settings.rounds + 1):
            booking = await self.book_once(card)
            if booking is not None:
                log.info("call %s: card %s booked %s by phone (%s, fee %s)", call.call_id,
                         card.number, booking.ticket, booking.kind, booking.fee)
                call.variables["ticket"] = booking.ticket
                await self.read_ticket(booking)
                await self._end("booking_thanks")
                return
            if round_ == self.settings.rounds or not await self._yes_no(["another_choice"]):
                break
        await self._end()

    async def identify(self) -> Card | None:
        """Card number then PIN, ``tries`` times; None once the call has been ended."""
        failures = 0
        prompt: list[Prompt] = ["booking_welcome", "enter_card"]
        switched = False
        while failures < self.settings.tries:
            number = await self._read_card(prompt)
            prompt = ["enter_card"]
            if number == "*" and not switched:  # the language key, once per call
                switched = True
                self._set_language("en" if self.call.language == "zh" else "zh")
                continue
            if not number:
                failures += 1
                await self.call.play("timeout")
                continue
            pin = await self.call.collect(
                self.settings.pin_digits, prompt="enter_pin", timeout=self.settings.timeout,
                inter_digit_timeout=self.settings.inter_digit)
            try:
                return await self.service.verify_card(number, pin, source="phone")
            except CardLocked:
                await self._end("card_locked")
                return None
            except BookingError:  # unknown card, wrong PIN, or not a card number at all
                failures += 1
                await self.call.play("wrong_pin")
        await self._end("too_many_tries")
        return None

    async def _read_card(self, prompt: Sequence[Prompt]) -> str:
        """The card number; ``*`` alone when that is the first key (the language switch)."""
        s = self.settings
        first = await self.call.collect(1, prompt=list(prompt), timeout=s.timeout, terminator="")
        if first in ("", "#", "*"):
            return "" if first == "#" else first
        rest = await self.call.collect(s.card_digits - 1, timeout=s.inter_digit,
                                       inter_digit_timeout=s.inter_digit)
        return first + rest

    async def book_once(self, card: Card) -> Booking | None:
        """One choice from the clinic-type menu to a stored booking; None when refused or
        when nothing could be chosen (the caller is then offered another choice)."""
        exams = await self.service.exam_types()
        options: dict[str, object] = {"1": "general", "2": "expert"}
        prompt: list[Prompt] = ["kind_general", "kind_expert"]
        if exams:
            options["3"] = "exam"
            prompt.append("kind_exam")
        kind = await self._menu(prompt, options)
        if kind == "exam":
            chosen = await self.choose_exam(exams)
        else:
            chosen = await self.choose_clinic(str(kind))
        if chosen is None:
            return None
        session, label = chosen
        fresh = await self.service.card(card.number)
        balance = fresh.balance if fresh is not None else card.balance
        if balance < session.fee:
            await self.call.play(["insufficient_balance", "fee_is", *self.speech.money(session.fee),
                                  "your_balance", *self.speech.money(balance)])
            return None
        if not await self._yes_no(["you_chose", *label, "fee_is",
                                   *self.speech.money(session.fee), "press_1_to_book"]):
            return None
        try:
            return await self.service.book(card.number, session.id, channel="phone")
        except InsufficientBalance:
            await self.call.play("insufficient_balance")
        except SlotFull:
            await self.call.play("session_full")
        except AlreadyBooked:
            await self.call.play("already_booked")
        except NotFound:
            await self.call.play("not_bookable")
        return None

    # -- choosing -------------------------------------------------------------------------

    async def choose_clinic(self, kind: str) -> tuple[Session, list[Prompt]] | None:
        """Department (confirmed), then the general session or the day and the expert."""
        departments = [d for d in await self.service.departments() if d.digit]
        spoken = await asyncio.gather(*(self.speech.named(
            d.name_zh, d.name_en, ["department_word", f"n{d.digit}"]) for d in departments))
        names = {d.code: name for d, name in zip(departments, spoken, strict=True)}
        department = await self._confirmed_choice(
            "choose_department", [(d.digit, names[d.code], d) for d in departments])
        if department is None:
            return None
        assert isinstance(department, Department)
        name = names[department.code]
        if kind == "general":
            return await self.choose_general(department, name)
        return await self.choose_expert(department, name)

    async def choose_general(self, department: Department,
                             name: list[Prompt]) -> tuple[Session, list[Prompt]] | None:
        """The earliest day with room in the bookable days; its half-day when both have room
        (so a caller in the afternoon is not booked into the morning that has passed)."""
        sessions = _with_room(await self.service.sessions(
            kind="general", department=department.code, start=self.today(),
            days=self.settings.days))
        if not sessions:
            await self.call.play("no_sessions")
            return None
        session = await self._half_day([s for s in sessions if s.date == sessions[0].date])
        return session, [*self._when(session), *name, "general_clinic"]

    async def choose_expert(self, department: Department,
                            name: list[Prompt]) -> tuple[Session, list[Prompt]] | None:
        """Day (confirmed), then that day's experts by half-day, numbered."""
        day = await self.choose_day()
        if day is None:
            return None
        sessions = _with_room(await self.service.sessions(
            kind="expert", department=department.code, on=day))[:9]
        if not sessions:
            await self.call.play("no_sessions")
            return None
        lines: list[Prompt] = ["experts_intro"]
        names = await asyncio.gather(*(self.speech.text(s.expert.name if s.expert else "")
                                       for s in sessions))  # rendered side by side
        half = ""
        for number, (session, spoken) in enumerate(zip(sessions, names, strict=True), 1):
            if session.half != half:
                half = session.half
                lines.append(half)
            lines += ["expert_word", *self.speech.number(number), *spoken]
        lines.append("choose_expert")
        options = {str(n): n for n in range(1, len(sessions) + 1)}
        number = int(await self._menu(lines, options))  # type: ignore[call-overload]
        session = sessions[number - 1]
        return session, [*self._when(session), *name, "expert_word",
                         *self.speech.number(number), *names[number - 1]]

    async def choose_exam(self, exams: list[ExamType]) -> tuple[Session, list[Prompt]] | None:
        """Exam type (confirmed), day (confirmed), then the half-day when both have room."""
        exams = [e for e in exams if e.digit]
        spoken = await asyncio.gather(*(self.speech.named(
            e.name_zh, e.name_en, ["exam_word", f"n{e.digit}"]) for e in exams))
        names = {e.code: name for e, name in zip(exams, spoken, strict=True)}
        exam = await self._confirmed_choice(
            "choose_exam", [(e.digit, names[e.code], e) for e in exams])
        if exam is None:
            return None
        assert isinstance(exam, ExamType)
        day = await self.choose_day()
        if day is None:
            return None
        sessions = _with_room(await self.service.sessions(kind="exam", exam=exam.code, on=day))
        if not sessions:
            await self.call.play("no_sessions")
            return None
        session = await self._half_day(sessions)
        return session, [*self._when(session), *names[exam.code]]

    async def _half_day(self, sessions: list[Session]) -> Session:
        """"Morning press 1, afternoon press 2" among one day's sessions; no question for one."""
        if len(sessions) == 1:
            return sessions[0]
        options = {str(n): s for n, s in enumerate(sessions[:9], 1)}
        lines: list[Prompt] = ["choose_half"]
        for key, s in options.items():
            lines += self.speech.choice([s.half], key)
        return await self._menu(lines, options)  # type: ignore[return-value]

    async def choose_day(self) -> dt.date | None:
        """Today, tomorrow, the day after... with "press 1 to confirm, 2 to re-enter"."""
        today = self.today()
        days = [today + dt.timedelta(days=n) for n in range(min(self.settings.days, 9))]
        return await self._confirmed_choice(  # type: ignore[return-value]
            "choose_day", [(str(n), self.speech.day(d, today), d) for n, d in enumerate(days, 1)])

    async def _confirmed_choice(self, intro: str,
                                choices: list[tuple[str, list[Prompt], object]]) -> object | None:
        """A menu of ``(key, spoken label, value)`` then "you chose X, 1 confirm, 2 re-enter"
        (``rounds`` times); None when there is nothing to choose or no choice was confirmed."""
        if not choices:
            await self.call.play("not_bookable")
            return None
        lines: list[Prompt] = [intro]
        for key, label, _ in choices:
            lines += self.speech.choice(label, key)
        by_key = {key: (label, value) for key, label, value in choices}
        for _ in range(self.settings.rounds):
            label, value = await self._menu(lines, by_key)  # type: ignore[misc]
            if await self._yes_no(["you_chose", *label, "confirm_or_reenter"]):
                return value
        return None

    def _when(self, session: Session) -> list[Prompt]:
        return [*self.speech.day(session.date, self.today()), session.half]

    async def read_ticket(self, booking: Booking) -> None:
        """The ticket number and the new balance; 1 repeats them (a few times at most)."""
        for _ in range(self.settings.rounds):
            await self.call.play(["booked", *await self.speech.ticket(booking.ticket),
                                  "balance_after", *self.speech.money(booking.balance_after)])
            key = await self.call.collect(1, prompt="repeat_or_end",
                                          timeout=self.settings.timeout, terminator="")
            if key != "1":
                return


def _with_room(sessions: list[Session]) -> list[Session]:
    """Sessions that still take a booking, by day, half-day and expert."""
    def order(s: Session) -> tuple[dt.date, int, str]:
        half = HALVES.index(s.half) if s.half in HALVES else len(HALVES)
        return s.date, half, s.expert.name if s.expert else ""

    return sorted((s for s in sessions if s.booked < s.capacity), key=order)


def make_appointments_flow(
    service: BookingServiceLike,
    *,
    tts: TextToSpeech | None = None,
    settings: PhoneSettings | None = None,
) -> FlowFunc:
    """The booking line as a flow for ``Switch.add_builtin_flow("appointments", ...)``."""
    chosen = settings or PhoneSettings()

    async def appointments(call: Call) -> None:
        """Appointment booking: card + PIN, clinic or exam, department, day, expert, ticket."""
        await BookingLine(call, service, tts, chosen).run()

    return appointments
