"""The appointment line (8000) on a simulated caller and a fake clock, booking through the real
BookingService over a fresh database: every branch of the dialogue, and what it stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from softswitch.flows import FlowFunc
from softswitch.flows.media_port import prompt_seconds
from softswitch.flows.tts import TextToSpeech
from softswitch.hospital.booking import Booking, BookingService, Session
from softswitch.hospital.booking.flow import PhoneSettings, make_appointments_flow
from softswitch.store import Database, open_database
from softswitch.testing import FlowResult, run_flow

TODAY = dt.date(2026, 11, 26)
TOMORROW = TODAY + dt.timedelta(days=1)
CARD, PIN = "10001", "123456"
POOR_CARD, POOR_PIN = "10002", "654321"
LOGIN = f"{CARD}#{PIN}#"


def clock_at(day: dt.date, hour: int = 9) -> Any:
    now = dt.datetime.combine(day, dt.time(hour)).timestamp()
    return lambda: now


class Hospital:
    """A small hospital: two departments, two experts tomorrow, an exam with two slots."""

    def __init__(self, service: BookingService) -> None:
        self.service = service
        self.sessions: dict[str, Session] = {}

    async def fill(self) -> Hospital:
        s = self.service
        await s.set_department("im", digit="1", name_zh="内科", name_en="internal medicine",
                               general_fee="10.00")
        await s.set_department("sur", digit="2", name_zh="外科", name_en="surgery",
                               general_fee="12.00")
        zhang = await s.add_expert("张伟", "im", "chief physician")
        li = await s.add_expert("李娜", "im", "associate chief physician")
        await s.set_exam_type("us", digit="1", name_zh="B超", name_en="ultrasound", fee="80")
        self.sessions = {
            "general": await s.set_session(kind="general", department="im", on=TODAY,
                                           half="morning", capacity=30),
            "zhang": await s.set_session(kind="expert", expert_id=zhang.id, on=TOMORROW,
                                         half="morning", capacity=5, fee="50.00"),
            "li": await s.set_session(kind="expert", expert_id=li.id, on=TOMORROW,
                                      half="afternoon", capacity=1, fee="60.00"),
            "us_am": await s.set_session(kind="exam", exam="us", on=TOMORROW, half="morning",
                                         capacity=10),
            "us_pm": await s.set_session(kind="exam", exam="us", on=TOMORROW, half="afternoon",
                                         capacity=10),
        }
        await s.add_card(CARD, PIN, "张三", phones=["13800000001"], balance="100.00")
        await s.add_card(POOR_CARD, POOR_PIN, "李四", balance="5.00")
        return self

    async def balance(self, card: str = CARD) -> Decimal:
        found = await self.service.card(card)
        assert found is not None
        return found.balance

    async def bookings(self, card: str = CARD) -> list[Booking]:
        return await self.service.appointments(card)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await open_database(tmp_path / "data")
    yield db
    await db.close()


@pytest.fixture
async def hospital(database: Database) -> Hospital:
    return await Hospital(BookingService(database, clock=clock_at(TODAY))).fill()


def line(hospital: Hospital, tts: TextToSpeech | None = None, **settings: Any) -> FlowFunc:
    return make_appointments_flow(hospital.service, tts=tts, settings=PhoneSettings(**settings))


def count(result: FlowResult, prompt: str) -> int:
    return result.prompts.count(prompt)


def follows(result: FlowResult, *names: str) -> bool:
    """``names`` appear in this order among the prompts (not necessarily adjacent)."""
    it = iter(result.prompts)
    return all(name in it for name in names)


async def test_general_clinic_is_booked_charged_and_the_ticket_read_back(
        hospital: Hospital) -> None:
    result = await run_flow(line(hospital), digits=LOGIN + "1" + "11" + "1" + "2")
    assert result.ended_by == "flow"
    [booking] = await hospital.bookings()
    assert (booking.kind, booking.department, booking.date, booking.half) == (
        "general", "im", TODAY, "morning")
    assert booking.fee == Decimal("10.00")
    assert await hospital.balance() == Decimal("90.00")
    assert result.variables == {"card": CARD, "ticket": booking.ticket}
    # card, PIN, balance, the menus, "you chose", the fee before paying, ticket, goodbye
    assert follows(result, "booking_welcome", "enter_card", "enter_pin", "your_balance",
                   "kind_general", "kind_expert", "kind_exam", "choose_department",
                   "you_chose", "confirm_or_reenter", "you_chose", "today", "morning",
                   "general_clinic", "fee_is", "press_1_to_book", "booked", "balance_after",
                   "repeat_or_end", "booking_thanks", "goodbye")
    digits = "".join(ch for ch in booking.ticket if ch.isdigit())
    spoken = ["n1_yao" if d == "1" else f"n{d}" for d in digits]
    start = result.prompts.index("booked") + 1
    assert list(result.prompts[start:start + len(spoken)]) == spoken
    assert result.hangup_cause is not None


async def test_the_ticket_is_repeated_on_request(hospital: Hospital) -> None:
    result = await run_flow(line(hospital), digits=LOGIN + "1" + "11" + "1" + "1" + "1" + "2")
    assert count(result, "booked") == 3
    assert len(await hospital.bookings()) == 1  # repeating never books twice
    assert await hospital.balance() == Decimal("90.00")


async def test_expert_clinic_with_day_choice_names_the_experts_by_half_day(
        hospital: Hospital, tmp_path: Path) -> None:
    tts = TextToSpeech(tmp_path / "tts")
    # expert clinic, internal medicine + confirm, tomorrow + confirm, expert 2, book, finish
    result = await run_flow(line(hospital, tts), digits=LOGIN + "2" + "11" + "21" + "2" + "1"
                            + "2")
    assert result.ended_by == "flow"
    [booking] = await hospital.bookings()
    assert (booking.kind, booking.expert, booking.date, booking.half) == (
        "expert", "李娜", TOMORROW, "afternoon")
    assert await hospital.balance() == Decimal("40.00")
    zhang = tts.cache_path("张伟", "zh").stem
    li = tts.cache_path("李娜", "zh").stem
    assert follows(result, "choose_day", "today", "press_key", "n1", "tomorrow", "press_key",
                   "n2", "day_after_tomorrow", "press_key", "n3", "you_chose", "tomorrow",
                   "confirm_or_reenter", "experts_intro", "morning", "expert_word", "n1", zhang,
                   "afternoon", "expert_word", "n2", li, "choose_expert",
                   "you_chose", "expert_word", "n2", li, "fee_is", "n6", "n10", "yuan")
    internal = tts.cache_path("内科", "zh").stem
    assert follows(result, "choose_department", internal, "press_key", "n1")
    # the ticket (E1-1127-001): its letter through TTS in English, its digits recorded
    letter = tts.cache_path(booking.ticket[0], "en").stem
    start = result.prompts.index("booked")
    assert result.prompts[start + 1: start + 4] == (letter, "n1_yao", "n1_yao")


async def test_exam_booking_chooses_the_day_and_the_half_day(hospital: Hospital) -> None:
    # exam, ultrasound + confirm, tomorrow + confirm, afternoon, book, finish
    result = await run_flow(line(hospital), digits=LOGIN + "3" + "11" + "21" + "2" + "1" + "2")
    assert result.ended_by == "flow"
    [booking] = await hospital.bookings()
    assert (booking.kind, booking.exam, booking.date, booking.half) == (
        "exam", "us", TOMORROW, "afternoon")
    assert await hospital.balance() == Decimal("20.00")
    assert follows(result, "choose_exam", "exam_word", "n1", "press_key", "n1",
                   "choose_half", "morning", "press_key", "n1", "afternoon", "press_key", "n2")


async def test_re_entering_a_department_and_a_day(hospital: Hospital) -> None:
    # expert: surgery then "2" re-enter, internal medicine + confirm; today "2" re-enter,
    # tomorrow + confirm; expert 1, book, finish
    digits = LOGIN + "2" + "22" + "11" + "12" + "21" + "1" + "1" + "2"
    result = await run_flow(line(hospital), digits=digits)
    [booking] = await hospital.bookings()
    assert (booking.expert, booking.date) == ("张伟", TOMORROW)
    assert count(result, "confirm_or_reenter") == 4
    assert result.ended_by == "flow"


async def test_three_wrong_pins_end_the_call_politely(hospital: Hospital) -> None:
    result = await run_flow(line(hospital), digits=f"{CARD}#000000#" * 2 + "99999#123456#")
    assert count(result, "wrong_pin") == 3
    assert follows(result, "wrong_pin", "wrong_pin", "wrong_pin", "too_many_tries", "goodbye")
    assert "your_balance" not in result.prompts
    assert result.ended_by == "flow" and result.hangup_cause is not None
    assert await hospital.bookings() == []


async def test_a_locked_card_is_told_so_and_the_call_ends(database: Database) -> None:
    service = BookingService(database, clock=clock_at(TODAY), max_pin_failures=2)
    hospital = await Hospital(service).fill()
    result = await run_flow(line(hospital, tries=5), digits=f"{CARD}#0#" * 2 + LOGIN)
    assert follows(result, "wrong_pin", "wrong_pin", "card_locked", "goodbye")
    assert "your_balance" not in result.prompts


async def test_a_low_balance_is_explained_before_anything_is_charged(hospital: Hospital) -> None:
    # general clinic costs 10.00, the card holds 5.00: explained, then "2" to finish
    result = await run_flow(line(hospital), digits=f"{POOR_CARD}#{POOR_PIN}#" + "1" + "11" + "2")
    assert follows(result, "your_balance", "n5", "yuan", "insufficient_balance", "fee_is",
                   "n10", "yuan", "another_choice", "goodbye")
    assert "press_1_to_book" not in result.prompts
    assert await hospital.bookings(POOR_CARD) == []
    assert await hospital.balance(POOR_CARD) == Decimal("5.00")


async def test_a_slot_taken_meanwhile_is_refused_and_another_choice_offered(
        hospital: Hospital) -> None:
    """Another caller takes Dr Li's last place while this one listens to the fee."""
    real_book = hospital.service.book

    async def book_after_a_rival(card: str, session_id: int, *, channel: str) -> Booking:
        if session_id == hospital.sessions["li"].id and not await hospital.bookings(POOR_CARD):
            await hospital.service.change_balance(POOR_CARD, "100.00", reason="topup")
            await real_book(POOR_CARD, session_id, channel="web")
        return await real_book(card, session_id, channel=channel)

    hospital.service.book = book_after_a_rival  # type: ignore[method-assign]
    # expert Li -> full -> "1" choose again -> expert Zhang -> book -> finish
    digits = LOGIN + "2" + "11" + "21" + "2" + "1" + "1" + "2" + "11" + "21" + "1" + "1" + "2"
    result = await run_flow(line(hospital), digits=digits)
    assert follows(result, "session_full", "another_choice", "kind_general", "booked")
    [booking] = await hospital.bookings()
    assert booking.expert == "张伟"
    assert await hospital.balance() == Decimal("50.00")  # charged once, for Zhang only


async def test_already_booked_is_explained(hospital: Hospital) -> None:
    await hospital.service.book(CARD, hospital.sessions["general"].id, channel="web")
    result = await run_flow(line(hospital), digits=LOGIN + "1" + "11" + "1" + "2")
    assert follows(result, "press_1_to_book", "already_booked", "another_choice", "goodbye")
    assert len(await hospital.bookings()) == 1
    assert await hospital.balance() == Decimal("90.00")


async def test_a_day_without_experts_with_room_says_so(hospital: Hospital) -> None:
    # today has no expert sessions at all
    result = await run_flow(line(hospital), digits=LOGIN + "2" + "11" + "11" + "2")
    assert follows(result, "choose_day", "no_sessions", "another_choice", "goodbye")
    assert await hospital.bookings() == []


async def test_wrong_keys_and_silence_reprompt_then_end(hospital: Hospital) -> None:
    result = await run_flow(line(hospital), digits=LOGIN + "9" + "." + "7")
    assert follows(result, "kind_general", "invalid", "kind_general", "timeout", "kind_general",
                   "invalid")
    assert result.ended_by == "no_input"
    assert result.prompts[-1] == "goodbye"
    assert await hospital.bookings() == []


async def test_silence_at_the_card_prompt_ends_after_three_tries(hospital: Hospital) -> None:
    result = await run_flow(line(hospital), digits="...")
    assert count(result, "timeout") == 3
    assert follows(result, "too_many_tries", "goodbye")
    assert result.duration >= 3 * PhoneSettings().timeout


async def test_a_caller_hanging_up_mid_call_books_nothing(hospital: Hospital) -> None:
    result = await run_flow(line(hospital), digits=LOGIN + "1", hangup_after=60)
    assert result.ended_by == "caller"
    assert await hospital.bookings() == []
    assert await hospital.balance() == Decimal("100.00")


async def _english_items(hospital: Hospital, digits: str, **options: Any) -> list[Path]:
    played: list[Path] = []

    def seconds(item: Any) -> float:
        if isinstance(item, Path):
            played.append(item)
        return prompt_seconds(item)

    await run_flow(line(hospital, **options), digits=digits, prompt_seconds=seconds)
    return played


async def test_star_at_the_first_prompt_switches_to_english(hospital: Hospital) -> None:
    played = await _english_items(hospital, "*" + LOGIN + "1" + "11" + "1" + "2")
    languages = [p.parent.name for p in played]
    assert languages[:2] == ["zh", "zh"]  # the welcome and the card prompt
    assert set(languages[2:]) == {"en"}, played
    assert len(await hospital.bookings()) == 1


async def test_english_can_be_configured(hospital: Hospital) -> None:
    played = await _english_items(hospital, LOGIN + "1" + "11" + "1" + "2", language="en")
    assert {p.parent.name for p in played} == {"en"}


def test_every_booking_prompt_exists_in_both_languages() -> None:
    from softswitch.flows import DEFAULT_PROMPTS
    from softswitch.flows.prompts import parse_prompt_text

    names: Sequence[str] = [
        "booking_welcome", "card_locked", "too_many_tries", "your_balance", "kind_general",
        "kind_expert", "kind_exam", "choose_department", "choose_exam", "choose_day",
        "choose_half", "press_key", "you_chose", "department_word", "exam_word",
        "general_clinic", "expert_word", "experts_intro", "choose_expert", "no_sessions",
        "session_full", "already_booked", "insufficient_balance", "not_bookable", "fee_is",
        "press_1_to_book", "booked", "balance_after", "repeat_or_end", "another_choice",
        "booking_thanks"]
    for lang in ("zh", "en"):
        texts = parse_prompt_text((DEFAULT_PROMPTS / f"{lang}.txt").read_text(encoding="utf-8"))
        for name in names:
            assert name in texts, (lang, name)
            assert (DEFAULT_PROMPTS / lang / f"{name}.wav").is_file(), (lang, name)


async def test_the_demo_hospital_is_bookable_by_phone(database: Database) -> None:
    """The data `softswitch run --demo` loads: an expert in surgery the day after tomorrow."""
    from softswitch.hospital.booking.demo import load_booking_demo

    service = BookingService(database, clock=clock_at(TODAY))
    assert await load_booking_demo(service)
    flow = make_appointments_flow(service)
    # expert, surgery + confirm, the day after tomorrow + confirm, expert 1, book, finish
    result = await run_flow(flow, digits="10001#123456#" + "2" + "21" + "31" + "1" + "1" + "2")
    assert result.ended_by == "flow"
    [booking] = await service.appointments("10001")
    assert (booking.kind, booking.department, booking.expert, booking.date, booking.half) == (
        "expert", "surgery", "张伟", TODAY + dt.timedelta(days=2), "morning")
    assert booking.balance_after == Decimal("450.00")
    # the card with 5 yuan hears the refusal before anything is charged
    poor = await run_flow(flow, digits="10003#111111#" + "1" + "11" + "2" + "2")
    # general clinic today: both half-days have room, so the caller picks the afternoon
    assert follows(poor, "choose_half", "morning", "afternoon", "insufficient_balance",
                   "another_choice", "goodbye")
    assert poor.ended_by == "flow"
    # general clinic, ENT + confirm, afternoon, book, finish
    general = await run_flow(flow, digits="10002#654321#" + "1" + "31" + "2" + "1" + "2")
    assert general.ended_by == "flow"
    [visit] = await service.appointments("10002")
    assert (visit.kind, visit.department, visit.date, visit.half, visit.fee) == (
        "general", "ent", TODAY, "afternoon", Decimal("8.00"))
    assert await service.appointments("10003") == []


async def test_choices_are_bounded_then_the_call_ends(hospital: Hospital) -> None:
    """Declining the fee every time: "another choice" is offered while rounds remain."""
    result = await run_flow(line(hospital, rounds=2), digits=LOGIN + "1112" + "1" + "1112")
    assert count(result, "press_1_to_book") == 2
    assert count(result, "another_choice") == 1
    assert result.prompts[-1] == "goodbye" and result.ended_by == "flow"
    assert await hospital.bookings() == []
